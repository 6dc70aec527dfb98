import TallyRedis
import TallyTesting
import Testing

@Test(arguments: [RedisConfiguration.ProtocolPreference.resp3, .resp2])
func stringCommandsBehaveAsDocumented(protocol preference: RedisConfiguration.ProtocolPreference) async throws {
    try await withConnection(protocol: preference) { (_, c) async throws in
        #expect(try await c.ping() == "PONG")
        #expect(try await c.set("lock", to: "owner-1", condition: .ifNotExists, expiration: .milliseconds(120_000)))
        #expect(try await !c.set("lock", to: "owner-2", condition: .ifNotExists))
        #expect(try await c.get("lock") == "owner-1")
        #expect(try await (1...120_000).contains(c.pttl("lock")))
        #expect(try await c.getBytes("lock").map { String(buffer: $0) } == "owner-1")
        #expect(try await c.get("missing") == nil)
        #expect(try await c.incrby("n", by: 5) == 5)
        #expect(try await c.incrby("n", by: -7) == -2)
        #expect(try await c.exists(["n", "lock", "missing"]) == 2)
        #expect(try await c.expire("n", after: 100))
        #expect(try await c.pexpire("n", after: .milliseconds(50_000)))
        #expect(try await !c.expire("missing", after: 1))
        #expect(try await c.del(["n", "lock", "missing"]) == 2)
        #expect(try await c.info("server").contains("redis_version:"))
        #expect(try await c.configGet("appendonly") == ["appendonly": "no"])
    }
}

@Test(arguments: [RedisConfiguration.ProtocolPreference.resp3, .resp2])
func hashCommandsBehaveAsDocumented(protocol preference: RedisConfiguration.ProtocolPreference) async throws {
    try await withConnection(protocol: preference) { (_, c) async throws in
        #expect(try await c.hset("h", fields: [("a", "1"), ("b", "x")]) == 2)
        #expect(try await c.hget("h", field: "b") == "x")
        #expect(try await c.hget("h", field: "zz") == nil)
        #expect(try await c.hincrby("h", field: "a", by: 41) == 42)
        #expect(try await c.hincrbyfloat("h", field: "f", by: 1.5) == 1.5)
        #expect(try await c.hgetall("h") == ["a": "42", "b": "x", "f": "1.5"])
        #expect(try await c.hdel("h", fields: ["a", "zz"]) == 1)
        #expect(try await c.hgetall("nothing") == [:])
    }
}

@Test(arguments: [RedisConfiguration.ProtocolPreference.resp3, .resp2])
func sortedSetCommandsBehaveAsDocumented(protocol preference: RedisConfiguration.ProtocolPreference) async throws {
    try await withConnection(protocol: preference) { (_, c) async throws in
        let members = [RedisScoredMember(member: "a", score: 1), RedisScoredMember(member: "b", score: 2.5), RedisScoredMember(member: "c", score: 10)]
        #expect(try await c.zadd("z", members: members) == 3)
        #expect(try await c.zadd("z", members: [RedisScoredMember(member: "a", score: 100)], condition: .ifNotExists) == 0)
        #expect(try await c.zcard("z") == 3)
        #expect(try await c.zrange("z", from: 0, to: -1) == ["a", "b", "c"])
        #expect(try await c.zrangeWithScores("z", from: 0, to: 1) == Array(members.prefix(2)))
        #expect(try await c.zrangebyscore("z", min: "(1", max: "+inf") == Array(members.suffix(2)))
        #expect(try await c.zrangebyscore("z", min: "-inf", max: "+inf", limit: (offset: 1, count: 1)) == [members[1]])
        #expect(try await c.zremrangebyscore("z", min: "-inf", max: "2.5") == 2)
        #expect(try await c.zrem("z", members: ["c", "nope"]) == 1)
        #expect(try await c.zcard("z") == 0)
    }
}

@Test func transactionsRunAtomicallyAndAbortWhenAWatchedKeyChanges() async throws {
    try await withPool { (_, pool) async throws in
        let results = try await pool.transaction([RedisCommand("INCR", "t"), RedisCommand("INCRBY", "t", 10), RedisCommand("GET", "t")])
        #expect(results?.map(\.string) == ["1", "11", "11"])

        // WATCH, then another client changes the key: EXEC is aborted (nil).
        let aborted = try await pool.transaction(watching: ["t"]) { connection in
            let current = try await connection.get("t")
            try await pool.set("t", to: "changed-elsewhere")
            return [RedisCommand("SET", "t", .string((current ?? "") + "!"))]
        }
        #expect(aborted == nil)
        #expect(try await pool.get("t") == "changed-elsewhere")

        let committed = try await pool.transaction(watching: ["t"]) { connection in
            [RedisCommand("SET", "t", .string((try await connection.get("t") ?? "") + "!"))]
        }
        #expect(committed == [.simpleString("OK")])
        #expect(try await pool.get("t") == "changed-elsewhere!")

        // A command refused while queueing aborts the whole transaction with the server's message.
        let error = await expectRedisError { _ = try await pool.transaction([RedisCommand("SET", "t"), RedisCommand("INCR", "t2")]) }
        #expect(error?.serverErrorCode == "EXECABORT")
        #expect(error?.description.contains("SET") == true)
        #expect(try await pool.get("t2") == nil)

        // Runtime errors stay in place.
        let mixed = try await pool.transaction([RedisCommand("INCR", "t"), RedisCommand("SET", "u", "1")])
        guard case .error = mixed?[0] else { Issue.record("expected an error in place"); return }
        #expect(mixed?[1] == .simpleString("OK"))
    }
}

/// `sendTransaction`: many writes in one `MULTI` … `EXEC` flush, optionally followed by `WAIT`.
@Test func aTransactionAppliesEveryCommandOrNoneRefusedWhileQueueing() async throws {
    try await withPool { (_, pool) async throws in
        let (replies, replicas) = try await pool.sendTransaction((0..<500).map { RedisCommand("XADD", "s", "*", "n", .integer($0)) },
                                                                 replicas: 0, timeout: .zero)
        #expect(replies.count == 500 && replicas == 0)
        #expect(try await pool.send(RedisCommand("XLEN", "s")).int == 500)
        let ids = replies.compactMap(\.string)
        // In the order sent: each id after the one before.
        let parsed = ids.map { $0.split(separator: "-").compactMap { Int($0) } }
        #expect(ids.count == 500 && zip(parsed, parsed.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) })

        // A command refused while queueing (here: a wrong argument count) discards the whole
        // transaction, and its own error, named by its command, is what is thrown.
        let error = await expectRedisError {
            _ = try await pool.sendTransaction([RedisCommand("XADD", "s", "*", "n", "1"), RedisCommand("XADD", "s")], replicas: 0, timeout: .zero)
        }
        guard case .server(let command, let message) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(command == "XADD" && message.lowercased().contains("wrong number of arguments"), "\(message)")
        #expect(try await pool.send(RedisCommand("XLEN", "s")).int == 500)

        // An error while executing stays in place; the other commands ran.
        let mixed = try await pool.sendTransaction([RedisCommand("SET", "k", "v"), RedisCommand("INCR", "k"), RedisCommand("SET", "l", "w")],
                                                   replicas: 0, timeout: .zero).replies
        guard mixed.count == 3, case .error = mixed[1] else { Issue.record("expected an error in place: \(mixed)"); return }
        #expect(mixed[0] == .simpleString("OK") && mixed[2] == .simpleString("OK"))

        // With replicas asked for, `WAIT` follows on the same connection: none here, so 0 once its timeout passed.
        let waited = try await pool.sendTransaction([RedisCommand("INCR", "w")], replicas: 1, timeout: .milliseconds(50))
        #expect(waited.replies == [.integer(1)] && waited.replicas == 0)
    }
}

@Test func scriptsRunByHashAndReloadOnNOSCRIPT() async throws {
    try await withPool { (_, pool) async throws in
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(try await pool.evalScript(script, keys: ["s"], arguments: [5]).int == 5)
        #expect(try await pool.evalScript(script, keys: ["s"], arguments: [5]).int == 10)
        _ = try await pool.send(RedisCommand("SCRIPT", "FLUSH"))
        #expect(try await pool.evalScript(script, keys: ["s"], arguments: [1]).int == 11)
        let broken = RedisScript("return redis.call('NOPE')")
        let error = await expectRedisError { _ = try await pool.evalScript(broken) }
        guard case .server(let command, let message) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(command == "EVALSHA")
        #expect(message.contains("Unknown Redis command") || message.contains("unknown command"))
    }
}
