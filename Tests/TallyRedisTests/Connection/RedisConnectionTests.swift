import NIOCore
import NIOPosix
import Synchronization
import TallyRedis
import TallyTesting
import Testing

@Test func connectsOverTCPAndUnixSocketWithRESP3() async throws {
    try await withRedisServer { (server: RedisServer) async throws in
        let tcp = try await RedisConnection.connect(RedisConfiguration(url: server.url))
        let unix = try await RedisConnection.connect(RedisConfiguration(url: server.unixURL))
        #expect(tcp.protocolVersion == 3)
        #expect(try await tcp.ping() == "PONG")
        #expect(try await unix.ping() == "PONG")
        await tcp.close()
        await unix.close()
        #expect(!tcp.isActive)
    }
}

@Test func fallsBackToRESP2WhenTheServerRefusesHello() async throws {
    try await withRedisServer(password: "pw", extraArguments: ["--rename-command", "HELLO", ""]) { (server: RedisServer) async throws in
        var configuration = try RedisConfiguration(url: server.url + "/2?name=tally-test")
        configuration.commandTimeout = .seconds(5)
        let connection = try await RedisConnection.connect(configuration)
        #expect(connection.protocolVersion == 2)
        try await connection.set("k", to: "v")
        #expect(try await connection.get("k") == "v")
        #expect(try await connection.send(RedisCommand("CLIENT", "GETNAME")).string == "tally-test")
        #expect(try await connection.send(RedisCommand("CLIENT", "INFO")).string?.contains("db=2") == true)
        await connection.close()
    }
}

@Test func wrongPasswordIsAnAuthenticationError() async throws {
    try await withRedisServer(password: "right") { (server: RedisServer) async throws in
        for url in ["redis://:wrong@127.0.0.1:\(server.port)", "redis://127.0.0.1:\(server.port)"] {
            let error = await expectRedisError { _ = try await RedisConnection.connect(RedisConfiguration(url: url)) }
            guard case .authenticationFailed(_, let message) = error else {
                Issue.record("expected authenticationFailed, got \(String(describing: error))")
                continue
            }
            #expect(message.contains("WRONGPASS") || message.contains("NOAUTH"))
            #expect(!(error?.description.contains("wrong") ?? true), "the password must not appear in the error")
        }
        var resp2 = try RedisConfiguration(url: "redis://:wrong@127.0.0.1:\(server.port)")
        resp2.protocolPreference = .resp2
        let error = await expectRedisError { _ = try await RedisConnection.connect(resp2) }
        #expect(error?.serverErrorCode == "WRONGPASS")
    }
}

@Test func authenticatesAsAnACLUserAndSelectsTheDatabase() async throws {
    try await withRedisServer(password: "admin") { (server: RedisServer) async throws in
        let admin = try await RedisConnection.connect(RedisConfiguration(url: server.url))
        _ = try await admin.send(RedisCommand("ACL", "SETUSER", "alice", "on", ">s3cret", "~*", "&*", "+@all"))
        let alice = try await RedisConnection.connect(RedisConfiguration(url: "redis://alice:s3cret@127.0.0.1:\(server.port)/5?name=alice-conn"))
        #expect(try await alice.send(RedisCommand("ACL", "WHOAMI")).string == "alice")
        #expect(try await alice.send(RedisCommand("CLIENT", "GETNAME")).string == "alice-conn")
        try await alice.set("in-db-5", to: "yes")
        #expect(try await admin.get("in-db-5") == nil)
        _ = try await admin.send(RedisCommand("SELECT", 5))
        #expect(try await admin.get("in-db-5") == "yes")
        await alice.close()
        await admin.close()
    }
}

@Test func pipelinesTenThousandCommandsInOrder() async throws {
    try await withConnection { (_, connection) async throws in
        // Concurrent callers on one connection: each gets its own reply.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<10_000 {
                group.addTask {
                    let reply = try await connection.send(RedisCommand("ECHO", .integer(i)))
                    #expect(reply.string == String(i))
                }
            }
            try await group.waitForAll()
        }
        // One batch, one flush: replies in order.
        let replies = try await connection.send(batch: (0..<10_000).map { _ in RedisCommand("INCR", "counter") })
        #expect(replies.map { $0.int } == (1...10_000).map { $0 })
    }
}

@Test func batchKeepsErrorRepliesInPlace() async throws {
    try await withConnection { (_, connection) async throws in
        let replies = try await connection.send(batch: [RedisCommand("SET", "s", "x"), RedisCommand("INCR", "s"), RedisCommand("GET", "s")])
        #expect(replies[0] == .simpleString("OK"))
        guard case .error(let message) = replies[1] else { Issue.record("expected an error"); return }
        #expect(message.hasPrefix("ERR"))
        #expect(replies[2].string == "x")
    }
}

@Test func serverErrorsNameTheCommandAndMessage() async throws {
    try await withConnection { (_, connection) async throws in
        try await connection.set("s", to: "text")
        let error = await expectRedisError { _ = try await connection.incrby("s", by: 1) }
        #expect(error == .server(command: "INCRBY", message: "ERR value is not an integer or out of range"))
        #expect(error?.description == "Redis INCRBY failed: ERR value is not an integer or out of range")
        #expect(try await connection.ping() == "PONG")
    }
}

@Test func deadlineFailsEveryInFlightCommandAndClosesTheConnection() async throws {
    // The deadline leaves the test seconds to queue the PING behind the BLPOP, even on a loaded machine.
    try await withConnection(commandTimeout: .seconds(6)) { (server, connection) async throws in
        let observer = try await RedisConnection.connect(server.configuration())
        let start = ContinuousClock.now
        async let blocked = expectRedisError { _ = try await connection.send(RedisCommand("BLPOP", "nothing", 30)) }
        try await waitUntil { try await blockedClients(observer) == 1 }
        // Queued behind the blocked BLPOP, with a deadline of its own far away.
        async let behind = expectRedisError { _ = try await connection.send(RedisCommand("PING"), timeout: .seconds(60)) }
        let (first, second) = await (blocked, behind)
        guard case .commandTimedOut(let command, let timeout, let inFlight) = first else {
            Issue.record("expected commandTimedOut, got \(String(describing: first))")
            return
        }
        #expect(command == "BLPOP")
        #expect(timeout == .seconds(6))
        #expect(inFlight == 2)
        #expect(first?.description.contains("connection was closed") == true)
        #expect(second == .connectionTimedOut(command: "PING", timedOutCommand: "BLPOP"))
        // Well before the PING's own 60 s deadline and the BLPOP's 30 s server-side timeout.
        #expect(ContinuousClock.now - start < .seconds(25))
        try await waitUntil { !connection.isActive }
        let after = await expectRedisError { _ = try await connection.ping() }
        guard case .connectionClosed = after else { Issue.record("expected connectionClosed, got \(String(describing: after))"); return }
        await observer.close()
    }
}

@Test func cancelledCommandDoesNotPoisonTheConnection() async throws {
    try await withConnection { (server, connection) async throws in
        try await connection.set("k", to: "v")
        let other = try await RedisConnection.connect(server.configuration())
        let blocked = Task { try await connection.sendBlocking(RedisCommand("BLPOP", "queue", 5), blockingFor: .seconds(5)) }
        try await waitUntil { try await blockedClients(other) == 1 }
        blocked.cancel()
        await #expect(throws: CancellationError.self) { _ = try await blocked.value }
        // The BLPOP reply arrives later and must be discarded, not handed to GET.
        _ = try await other.send(RedisCommand("LPUSH", "queue", "item"))
        #expect(try await connection.get("k") == "v")
        #expect(try await connection.send(RedisCommand("LLEN", "queue")).int == 0)
        #expect(try await connection.ping() == "PONG")
        await other.close()
    }
}

@Test func connectTimeoutBoundsAServerThatNeverAnswers() async throws {
    // A TCP server that accepts and stays silent: the handshake never completes.
    let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = silent.localAddress!.port!
    let start = ContinuousClock.now
    let error = await expectRedisError {
        _ = try await RedisConnection.connect(RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: port), connectTimeout: .milliseconds(300)))
    }
    #expect(error == .connectTimeout(endpoint: "127.0.0.1:\(port)", timeout: .milliseconds(300)))
    // Bounded, not hanging: generous, because a loaded test machine can delay the timer by seconds.
    #expect(ContinuousClock.now - start < .seconds(30))
    try await silent.close()
}

@Test func refusedConnectionFailsFastWithTheEndpoint() async throws {
    let server = try await RedisServer.start()
    let port = server.port
    await server.stop()
    let error = await expectRedisError { _ = try await RedisConnection.connect(RedisConfiguration(url: "redis://127.0.0.1:\(port)")) }
    guard case .connectFailed(let endpoint, _) = error else { Issue.record("got \(String(describing: error))"); return }
    #expect(endpoint == "127.0.0.1:\(port)")
}

@Test func pushFramesAreKeptApartFromReplies() async throws {
    try await withRedisServer { (server: RedisServer) async throws in
        let pushes = Locked<[[RESPValue]]>([])
        var configuration = server.configuration()
        configuration.onPush = { frame in pushes.withLock { $0.append(frame) } }
        let tracked = try await RedisConnection.connect(configuration)
        _ = try await tracked.send(RedisCommand("CLIENT", "TRACKING", "on"))
        try await tracked.set("watched", to: "1")
        #expect(try await tracked.get("watched") == "1")
        let writer = try await RedisConnection.connect(server.configuration())
        try await writer.set("watched", to: "2")
        // The invalidation push arrives on `tracked` but never answers its commands.
        for _ in 0..<100 where pushes.withLock({ $0.isEmpty }) {
            #expect(try await tracked.ping() == "PONG")
            try await Task.sleep(for: .milliseconds(10))
        }
        let first = pushes.withLock { $0.first }
        #expect(first?.first?.string == "invalidate")
        #expect(try await tracked.get("watched") == "2")
        await tracked.close()
        await writer.close()
    }
}
