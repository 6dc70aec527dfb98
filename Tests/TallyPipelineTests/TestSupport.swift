import Foundation
import TallyPipeline
import TallyRedis
import TallyTesting
import Testing

/// The two implementations every conformance test runs against.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case redis

    var testDescription: String { rawValue }

    /// A fresh log and store (and, for Redis, a throwaway server and a pool), torn down afterwards.
    func with<T>(
        configuration: StateConfiguration = .default,
        appendPolicy: AppendPolicy = .default,
        _ body: (any EventLog & DeadLetterStore, any StateStore, Harness) async throws -> T
    ) async throws -> T {
        switch self {
        case .memory:
            let store = MemoryStateStore(configuration: configuration)
            let log = MemoryEventLog(store: store, appendPolicy: appendPolicy)
            try await log.prepare()
            return try await body(log, store, Harness(pool: nil, server: nil))
        case .redis:
            return try await withRedisServer { server in
                let pool = RedisConnectionPool(configuration: try RedisPoolConfiguration(
                    connection: server.configuration(), maximumConnections: 4, maximumBlockingConnections: 8,
                    leaseTimeout: RedisServer.leaseTimeout, reconnectInitialBackoff: .milliseconds(20), reconnectMaximumBackoff: .milliseconds(200)
                ))
                let log = RedisEventLog(client: pool, configuration: configuration, appendPolicy: appendPolicy)
                let store = RedisStateStore(client: pool, configuration: configuration)
                do {
                    try await log.prepare()
                    let result = try await body(log, store, Harness(pool: pool, server: server))
                    await pool.close()
                    return result
                } catch {
                    await pool.close()
                    throw error
                }
            }
        }
    }
}

extension EventLog {
    /// This test log's committer: its backend's, or the log itself when it injects commit faults.
    var committer: any BatchCommitter {
        switch self {
        case let log as RedisEventLog: log.committer
        case let log as MemoryEventLog: log.committer
        case let log as FaultyLog: log
        default: fatalError("no committer for \(type(of: self))")
        }
    }
}

extension StateStore {
    /// Applies `delta` with nothing to acknowledge, through the backend's committer (the one way the
    /// state is written), at `now` (nil: the state's clock).
    func apply(_ delta: StateDelta, now: Double? = nil) async throws {
        switch self {
        case let store as RedisStateStore:
            try await RedisBatchCommitter(client: store.client, keys: store.keys, configuration: store.configuration).apply(delta, now: now)
        case let store as MemoryStateStore:
            try await MemoryEventLog(store: store).committer.apply(delta, now: now)
        default:
            fatalError("no committer for \(type(of: self))")
        }
    }
}

/// Backend-specific handles a test may need (nil on the memory backend).
struct Harness: Sendable {
    let pool: RedisConnectionPool?
    let server: RedisServer?
}

/// Where the tests' worker pools run: threads of their own, as a node's workers do (`PipelineNode`).
/// The whole suite shares Swift's cooperative pool (two threads here); batch work left on it would
/// starve every other test's I/O, whose deadlines then pass on a machine that is merely busy.
let testWorkerExecutor = DedicatedThreadExecutor(threads: 2)

/// Unix seconds now.
func unixNow() -> Double { Date().timeIntervalSince1970 }

extension Array where Element == TelemetryEvent {
    var records: [EventRecord] { map { EventRecord(event: $0) } }
}
