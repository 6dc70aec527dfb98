import Testing
import TallyRedis
import TallyTesting
@testable import TallyPipeline

/// The append script checks the layout of its entries itself, before any write: a caller that
/// skips the log's own check still cannot append half a batch.
@Suite struct LogScriptsTests {
    @Test func anAppendWhoseEntriesDoNotFitTheirCountsWritesNothing() async throws {
        try await withRedisServer { server in
            let pool = RedisConnectionPool(configuration: try RedisPoolConfiguration(connection: server.configuration(), maximumConnections: 2, leaseTimeout: RedisServer.leaseTimeout))
            defer { Task { await pool.close() } }
            let keys = ["{t}:events", "{t}:idempotency", "{t}:idempotency:expiry", "{t}:idempotency:evicted", "{t}:dedupe:slices"]
            // No idempotency key, no dedupe: an append and nothing else.
            let plain: [RedisArgument] = ["[]", "[]", "", "", .integer(0), .integer(60_000), .integer(1000), .integer(0)]
            let good: [RedisArgument] = [.integer(1), "event", "x"]
            let layouts: [(arguments: [RedisArgument], why: String)] = [
                (good + [.integer(0)], "no field"),
                (good + [.integer(2), "a", "1", "b"], "fewer values than its count"),
                (good + ["two", "a", "1"], "a count that is not a number"),
                (good + [.integer(LogEntry.maxFields + 1)] + (0...LogEntry.maxFields).flatMap { [RedisArgument.string("f\($0)"), "v"] }, "too many fields"),
            ]
            for layout in layouts {
                await #expect(throws: RedisError.self, "\(layout.why)") {
                    try await pool.evalScript(LogScripts.appendOnce, keys: keys, arguments: plain + layout.arguments)
                }
                #expect(try await pool.send(RedisCommand("XLEN", "{t}:events")).int == 0, "\(layout.why)")
            }
            let reply = try await pool.evalScript(LogScripts.appendOnce, keys: keys, arguments: plain + good + [.integer(2), "a", "1", "b", "2"])
            #expect(reply.array?.count == 4)  // status, duplicates, two ids
            #expect(try await pool.send(RedisCommand("XLEN", "{t}:events")).int == 2)
        }
    }
}
