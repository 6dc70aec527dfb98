import Logging
import Synchronization
import TallyCore

/// A client for Redis Cluster with the same command API as ``RedisConnectionPool``: it reads the
/// topology from seed nodes, keeps a slot map and one bounded pool per primary, and sends each
/// command to the primary of its keys' slot.
///
/// - The slot is CRC16 of the key mod 16384, of its `{hash tag}` when it has one
///   (``HashSlot``). A command whose keys span slots is refused before it is sent
///   (``RedisError/crossSlot(command:keys:)``); a command without keys goes to any primary.
/// - A batch is split per node, each part sent in one flush, the replies put back in order.
/// - `MOVED` updates the slot map, refreshes the topology in the background and retries at once on
///   the new owner; `ASK` sends `ASKING` and the command on one connection of the target, once;
///   `TRYAGAIN`, `CLUSTERDOWN` and a node that cannot be reached (nothing was sent) refresh the
///   topology and retry with a doubling pause, at most ``Configuration/maximumAttempts`` times: a
///   command never waits past its attempts, and a dead primary fails fast until the topology shows
///   its replacement. A command whose connection failed after it was sent is never sent again (it
///   may have run): its error goes to the caller, and the topology is read again for the next one.
/// - Scripts run with `EVALSHA`, and with `EVAL` (which loads them) on the node that answered `NOSCRIPT`.
/// - Blocking reads use a dedicated connection of the node that owns the stream, and follow the
///   slot when it moves (the node answers `UNBLOCKED` or a redirect; the read is sent again where
///   the stream is now).
public final class RedisClusterClient: ClosableRedisClient {
    public struct Configuration: Sendable {
        /// How to reach the seed nodes; every node is reached with the same credentials and TLS.
        public var seeds: [RedisConfiguration]
        /// Shared connections per primary.
        public var maximumConnectionsPerNode: Int
        /// Dedicated (blocking-read) connections per primary.
        public var maximumBlockingConnectionsPerNode: Int
        /// Each node pool's lease deadline.
        public var leaseTimeout: Duration
        /// Tries of one command across redirects and refreshes before its last error is thrown.
        public var maximumAttempts: Int
        /// The first pause after `TRYAGAIN`, `CLUSTERDOWN` or an unreachable node; it doubles, up to 1 s.
        public var retryBackoff: Duration
        /// The observer of each node's pool, made when the pool is (`host:port` of the node); nil: none.
        public var nodeObserver: (@Sendable (_ node: String) -> (any RedisPoolObserver)?)?

        public init(seeds: [RedisConfiguration], maximumConnectionsPerNode: Int = 8, maximumBlockingConnectionsPerNode: Int = 8,
                    leaseTimeout: Duration = .milliseconds(500), maximumAttempts: Int = 6, retryBackoff: Duration = .milliseconds(50)) {
            precondition(!seeds.isEmpty, "a cluster client needs at least one seed")
            self.seeds = seeds
            self.maximumConnectionsPerNode = maximumConnectionsPerNode
            self.maximumBlockingConnectionsPerNode = maximumBlockingConnectionsPerNode
            self.leaseTimeout = leaseTimeout
            self.maximumAttempts = max(1, maximumAttempts)
            self.retryBackoff = retryBackoff
            self.nodeObserver = nil
        }
    }

    public let configuration: Configuration
    let logger: Logger
    private let state = Mutex(State())
    /// One topology read at a time; callers that need a fresh map wait for the running read.
    private let refreshing = Mutex<Task<Void, any Error>?>(nil)

    struct State {
        var topology = ClusterTopology()
        var pools: [ClusterTopology.Node: RedisConnectionPool] = [:]
        var closed = false
    }

    public init(configuration: Configuration, logger: Logger = Logger(label: "tally.redis.cluster")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Whether the server at `configuration` runs in cluster mode (`INFO cluster`: `cluster_enabled:1`).
    public static func isCluster(_ configuration: RedisConfiguration) async throws -> Bool {
        let connection = try await RedisConnection.connect(configuration)
        defer { Task { await connection.close() } }
        let info = try await connection.send(RedisCommand("INFO", "cluster")).string ?? ""
        return info.contains("cluster_enabled:1")
    }

    /// Reads the topology now (the first command does it otherwise); throws when no seed answers.
    public func connect() async throws {
        try await refreshTopology()
    }

    /// The primaries serving slots now.
    public var primaries: [String] {
        state.withLock { $0.topology.nodes.map(\.description).sorted() }
    }

    /// The pools of the nodes in use, by `host:port` (for their connection figures).
    public var nodePools: [String: RedisConnectionPool] {
        state.withLock { s in Dictionary(uniqueKeysWithValues: s.pools.map { ($0.key.description, $0.value) }) }
    }

    /// The primary that serves `slot` now, if known.
    public func primary(forSlot slot: Int) -> String? {
        state.withLock { $0.topology.primaries[slot]?.description }
    }

    // MARK: RedisClient

    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try await send(command, keylessSlot: nil)
    }

    /// `send`, with a command that names no key sent to the primary of `keylessSlot` (any primary when nil).
    func send(_ command: RedisCommand, keylessSlot: Int?) async throws -> RESPValue {
        try await routed(command, keylessSlot: keylessSlot) { pool, asking in
            if asking {
                return try await pool.withConnection { connection in
                    let replies = try await connection.send(batch: [RedisCommand("ASKING"), command])
                    if case .error(let message) = replies[1] { throw RedisError.server(command: command.name, message: message) }
                    return replies[1]
                }
            }
            return try await pool.send(command)
        }
    }

    public func sendBlocking(_ command: RedisCommand, blockingFor: Duration) async throws -> RESPValue {
        try await routed(command, keylessSlot: nil) { pool, _ in try await pool.sendBlocking(command, blockingFor: blockingFor) }
    }

    public func keyless(onNodeOf key: String) -> any RedisClient {
        KeylessOnSlot(cluster: self, slot: HashSlot.of(key))
    }

    /// Each node's part in one flush, all parts at once; replies in the order of `commands`. A reply
    /// that is a redirect (the slot moved meanwhile) is sent again alone, following it.
    public func send(batch commands: [RedisCommand]) async throws -> [RESPValue] {
        try await send(batch: commands, keylessSlot: nil)
    }

    func send(batch commands: [RedisCommand], keylessSlot: Int?) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let slots = try commands.map { try $0.slot() ?? keylessSlot }
        try await ensureTopology()
        // The commands' positions per node. A batch names few slots and fewer nodes: each slot is
        // looked up once, and a node found by comparing it with the few already found.
        var nodes: [ClusterTopology.Node] = []
        var positions: [[Int]] = []
        let fallback = try anyPrimary()
        state.withLock { s in
            var groupOfSlot: [Int: Int] = [:]
            var fallbackGroup: Int? = nil
            func group(of node: ClusterTopology.Node) -> Int {
                if let found = nodes.firstIndex(of: node) { return found }
                nodes.append(node)
                positions.append([])
                return nodes.count - 1
            }
            for (index, slot) in slots.enumerated() {
                let g: Int
                if let slot, let known = groupOfSlot[slot] {
                    g = known
                } else if let slot, let node = s.topology.primaries[slot] {
                    g = group(of: node)
                    groupOfSlot[slot] = g
                } else {
                    g = fallbackGroup ?? group(of: fallback)
                    fallbackGroup = g
                }
                positions[g].append(index)
            }
        }
        let groups = zip(nodes, positions)
        var replies = [RESPValue](repeating: .null, count: commands.count)
        if nodes.count == 1, let node = nodes.first {
            // One node: one flush, no tasks.
            do {
                replies = try await pool(for: node).send(batch: commands)
            } catch let error as RedisError where error.wasNotSent {
                replies = commands.map { _ in .error("TALLYRETRY \(error)") }
            }
        } else {
            try await withThrowingTaskGroup(of: (indices: [Int], replies: [RESPValue]).self) { group in
                for (node, indices) in groups {
                    let pool = try self.pool(for: node)
                    group.addTask {
                        do {
                            return (indices, try await pool.send(batch: indices.map { commands[$0] }))
                        } catch let error as RedisError where error.wasNotSent {
                            // The node cannot be reached and nothing was sent: every command of its
                            // part follows its slot alone.
                            return (indices, indices.map { _ in .error("TALLYRETRY \(error)") })
                        }
                    }
                }
                for try await part in group {
                    for (position, index) in part.indices.enumerated() { replies[index] = part.replies[position] }
                }
            }
        }
        for index in replies.indices {
            guard case .error(let message) = replies[index] else { continue }
            if message.hasPrefix("MOVED ") || message.hasPrefix("ASK ") || message.hasPrefix("TRYAGAIN") || message.hasPrefix("CLUSTERDOWN")
                || message.hasPrefix("TALLYRETRY ") {
                do {
                    replies[index] = try await send(commands[index], keylessSlot: keylessSlot)
                } catch RedisError.server(_, let message) {
                    replies[index] = .error(message)
                }
            }
        }
        return replies
    }

    /// Sends a write and then `WAIT replicas timeout` on the same connection of the primary of its
    /// keys (following redirects as ``send(_:)`` does).
    public func sendDurably(_ command: RedisCommand, replicas: Int, timeout: Duration) async throws -> (reply: RESPValue, replicas: Int) {
        var acknowledged = 0
        let reply = try await routed(command, keylessSlot: nil) { pool, asking in
            try await pool.withConnection { connection in
                let (write, replicated) = try await connection.sendDurably(asking ? [RedisCommand("ASKING")] : [], command, replicas: replicas, timeout: timeout)
                acknowledged = replicated
                return write
            }
        }
        return (reply, acknowledged)
    }

    /// The transaction on one connection of the primary of its keys' slot, following redirects as
    /// ``send(_:)`` does: a refused queueing ran nothing, so it is sent again to the node named.
    /// Keys of more than one slot are refused before anything is sent
    /// (``RedisError/crossSlot(command:keys:)``, command `MULTI`).
    public func sendTransaction(_ commands: [RedisCommand], replicas: Int, timeout: Duration) async throws -> (replies: [RESPValue], replicas: Int) {
        guard let first = commands.first else { return ([], 0) }
        var slot: Int?
        for command in commands {
            guard let own = try command.slot() else { continue }
            if let slot, own != slot { throw RedisError.crossSlot(command: "MULTI", keys: commands.flatMap { $0.keys ?? [] }) }
            slot = own
        }
        var result: (replies: [RESPValue], replicas: Int) = ([], 0)
        _ = try await routed(first, keylessSlot: slot) { pool, asking in
            try await pool.withConnection { connection in
                result = try await connection.sendTransaction(asking ? [RedisCommand("ASKING")] : [], commands, replicas: replicas, timeout: timeout)
                return RESPValue.null
            }
        }
        return result
    }

    /// `EVALSHA` on the node of the keys; on `NOSCRIPT`, `EVAL` with the source there (it loads it).
    public func runScript(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) async throws -> RESPValue {
        let shared: [RedisArgument] = [.integer(keys.count)] + keys.map { .string($0) } + arguments
        do {
            return try await send(RedisCommand("EVALSHA", arguments: [.string(script.sha1)] + shared))
        } catch let error as RedisError where error.serverErrorCode == "NOSCRIPT" {
            return try await send(RedisCommand("EVAL", arguments: [.string(script.source)] + shared))
        }
    }

    /// Closes every node's pool.
    public func close() async {
        let pools = state.withLock { s -> [RedisConnectionPool] in
            s.closed = true
            defer { s.pools = [:] }
            return Array(s.pools.values)
        }
        for pool in pools { await pool.close() }
    }

    // MARK: routing

    /// Runs `body` on the pool of the command's slot, following redirects and waiting out
    /// failovers within ``Configuration/maximumAttempts``.
    private func routed(_ command: RedisCommand, keylessSlot: Int?,
                        _ body: (RedisConnectionPool, _ asking: Bool) async throws -> RESPValue) async throws -> RESPValue {
        let slot = try command.slot() ?? keylessSlot
        try await ensureTopology()
        var redirect: ClusterTopology.Node?
        var asking = false
        var pause = configuration.retryBackoff
        var lastError: any Error = RedisError.clusterUnavailable(reason: "no attempt made")
        for attempt in 1...configuration.maximumAttempts {
            let node = try redirect ?? slot.flatMap { s in state.withLock { $0.topology.primaries[s] } } ?? anyPrimary()
            do {
                let reply = try await body(try pool(for: node), asking)
                return reply
            } catch let error as RedisError {
                lastError = error
                asking = false
                redirect = nil
                if case .server(_, let message) = error {
                    if let (movedSlot, target) = parseRedirect(message, prefix: "MOVED ") {
                        state.withLock { $0.topology.assign(movedSlot, to: target) }
                        refreshInBackground()
                        redirect = target
                        continue
                    }
                    if let (_, target) = parseRedirect(message, prefix: "ASK ") {
                        redirect = target
                        asking = true
                        continue
                    }
                    // UNBLOCKED: a blocking read whose key left the node (its slot is migrating): follow it.
                    guard ["TRYAGAIN", "CLUSTERDOWN", "UNBLOCKED"].contains(error.serverErrorCode ?? "") else { throw error }
                } else if !error.wasNotSent {
                    // Sent, and then the connection failed: the command may have run, so it is not
                    // sent again (that could apply a write twice). The next command finds the new map.
                    if Self.isNodeFailure(error) { refreshInBackground() }
                    throw error
                }
                // A slot in flux or a node gone: look again after a pause (a promoted replica shows up here).
                guard attempt < configuration.maximumAttempts else { break }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(1))
                try? await refreshTopology()
            }
        }
        throw lastError
    }

    /// Errors that mean the node cannot be used now (as opposed to a reply from it).
    static func isNodeFailure(_ error: RedisError) -> Bool {
        switch error {
        case .connectFailed, .connectTimeout, .serverUnavailable, .connectionClosed, .leaseTimedOut, .commandTimedOut, .connectionTimedOut:
            return true
        default:
            return false
        }
    }

    /// `MOVED 3999 127.0.0.1:6381` / `ASK 3999 127.0.0.1:6381` → (3999, node).
    func parseRedirect(_ message: String, prefix: String) -> (Int, ClusterTopology.Node)? {
        guard message.hasPrefix(prefix) else { return nil }
        let parts = message.dropFirst(prefix.count).split(separator: " ")
        guard parts.count >= 2, let slot = Int(parts[0]), let colon = parts[1].lastIndex(of: ":"),
              let port = Int(parts[1][parts[1].index(after: colon)...]) else { return nil }
        var host = String(parts[1][..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty, case .tcp(let seedHost, _) = configuration.seeds[0].endpoint { host = seedHost }
        return (slot, ClusterTopology.Node(host: host, port: port))
    }

    private func anyPrimary() throws -> ClusterTopology.Node {
        guard let node = state.withLock({ $0.topology.nodes.first }) else {
            throw RedisError.clusterUnavailable(reason: "no primary is known; the topology could not be read")
        }
        return node
    }

    /// The pool of `node`, made on first use with the seeds' credentials and TLS.
    private func pool(for node: ClusterTopology.Node) throws -> RedisConnectionPool {
        try state.withLock { s in
            guard !s.closed else { throw RedisError.poolClosed(command: "cluster") }
            if let pool = s.pools[node] { return pool }
            var connection = configuration.seeds[0]
            connection.endpoint = .tcp(host: node.host, port: node.port)
            let pool = RedisConnectionPool(configuration: try RedisPoolConfiguration(
                connection: connection, maximumConnections: configuration.maximumConnectionsPerNode,
                maximumBlockingConnections: configuration.maximumBlockingConnectionsPerNode, leaseTimeout: configuration.leaseTimeout),
                observer: configuration.nodeObserver?(node.description))
            s.pools[node] = pool
            return pool
        }
    }

    // MARK: topology

    private func ensureTopology() async throws {
        if state.withLock({ $0.topology.nodes.isEmpty }) { try await refreshTopology() }
    }

    private func refreshInBackground() {
        Task { try? await self.refreshTopology() }
    }

    /// Reads `CLUSTER SHARDS` (or `CLUSTER SLOTS`) from a known primary or a seed, the first that
    /// answers; one read at a time.
    func refreshTopology() async throws {
        let task = refreshing.withLock { running -> Task<Void, any Error> in
            if let running { return running }
            let task = Task { try await self.readTopology() }
            running = task
            return task
        }
        defer { refreshing.withLock { if $0 == task { $0 = nil } } }
        try await task.value
    }

    private func readTopology() async throws {
        let tls = configuration.seeds[0].tls != nil
        var candidates: [RedisConfiguration] = state.withLock { s in
            s.topology.nodes.map { node in
                var c = configuration.seeds[0]
                c.endpoint = .tcp(host: node.host, port: node.port)
                return c
            }
        }
        candidates += configuration.seeds
        var failures: [String] = []
        for candidate in candidates {
            var bounded = candidate
            bounded.connectTimeout = min(candidate.connectTimeout, .seconds(2))
            bounded.commandTimeout = min(candidate.commandTimeout, .seconds(2))
            do {
                let connection = try await RedisConnection.connect(bounded, logger: logger)
                defer { Task { await connection.close() } }
                var topology: ClusterTopology?
                do {
                    topology = ClusterTopology.fromShards(try await connection.send(RedisCommand("CLUSTER", "SHARDS")), tls: tls)
                } catch let error as RedisError where error.serverErrorCode == "ERR" {
                    topology = ClusterTopology.fromSlots(try await connection.send(RedisCommand("CLUSTER", "SLOTS")))
                }
                guard let topology, !topology.nodes.isEmpty else {
                    failures.append("\(candidate.endpoint): no slots assigned")
                    continue
                }
                let stale = state.withLock { s -> [RedisConnectionPool] in
                    s.topology = topology
                    let live = topology.nodes
                    let gone = s.pools.filter { !live.contains($0.key) }
                    for node in gone.keys { s.pools[node] = nil }
                    return Array(gone.values)
                }
                for pool in stale { Task { await pool.close() } }
                return
            } catch {
                failures.append("\(candidate.endpoint): \(error)")
            }
        }
        throw RedisError.clusterUnavailable(reason: "no node answered CLUSTER SHARDS (\(failures.prefix(4).joined(separator: "; ")))")
    }
}

/// A ``RedisClusterClient`` whose commands without keys go to the primary of one slot.
struct KeylessOnSlot: RedisClient {
    let cluster: RedisClusterClient
    let slot: Int

    func send(_ command: RedisCommand) async throws -> RESPValue { try await cluster.send(command, keylessSlot: slot) }
    func send(batch commands: [RedisCommand]) async throws -> [RESPValue] { try await cluster.send(batch: commands, keylessSlot: slot) }
    func sendBlocking(_ command: RedisCommand, blockingFor: Duration) async throws -> RESPValue {
        try await cluster.sendBlocking(command, blockingFor: blockingFor)
    }
    func runScript(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) async throws -> RESPValue {
        try await cluster.runScript(script, keys: keys, arguments: arguments)
    }
    func keyless(onNodeOf key: String) -> any RedisClient { cluster.keyless(onNodeOf: key) }
    func sendDurably(_ command: RedisCommand, replicas: Int, timeout: Duration) async throws -> (reply: RESPValue, replicas: Int) {
        try await cluster.sendDurably(command, replicas: replicas, timeout: timeout)
    }
    func sendTransaction(_ commands: [RedisCommand], replicas: Int, timeout: Duration) async throws -> (replies: [RESPValue], replicas: Int) {
        try await cluster.sendTransaction(commands, replicas: replicas, timeout: timeout)
    }
}
