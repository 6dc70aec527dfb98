import Testing
import TallyRedis
import TallyTesting
@testable import TallyPipeline

/// The append scripts check the layout of their entries themselves, before any write: a caller that
/// skips the logs' own check still cannot append half a batch.
@Suite struct LogScriptsTests {
    @Test func anAppendWhoseEntriesDoNotFitTheirCountsWritesNothing() async throws {
        try await withRedisServer { server in
            let pool = RedisConnectionPool(configuration: try RedisPoolConfiguration(connection: server.configuration(), maximumConnections: 2, leaseTimeout: .seconds(10)))
            defer { Task { await pool.close() } }
            let good: [RedisArgument] = [.integer(1), "event", "x"]
            let layouts: [(arguments: [RedisArgument], why: String)] = [
                (good + [.integer(0)], "no field"),
                (good + [.integer(2), "a", "1", "b"], "fewer values than its count"),
                (good + ["two", "a", "1"], "a count that is not a number"),
                (good + [.integer(LogEntry.maxFields + 1)] + (0...LogEntry.maxFields).flatMap { [RedisArgument.string("f\($0)"), "v"] }, "too many fields"),
            ]
            for layout in layouts {
                await #expect(throws: RedisError.self, "\(layout.why)") {
                    try await pool.evalScript(LogScripts.append, keys: ["{t}:events"], arguments: layout.arguments)
                }
                #expect(try await pool.send(RedisCommand("XLEN", "{t}:events")).int == 0, "\(layout.why)")
            }
            let ids = try await pool.evalScript(LogScripts.append, keys: ["{t}:events"], arguments: good + [.integer(2), "a", "1", "b", "2"])
            #expect(ids.array?.count == 2)
            #expect(try await pool.send(RedisCommand("XLEN", "{t}:events")).int == 2)
        }
    }
}
