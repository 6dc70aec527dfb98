import Foundation

/// What a coding-assistant session does, one event at a time: the one model behind `tally
/// loadgen`'s ``SessionEventGenerator`` and the test suites' generators, so that load tests and
/// exactness tests see the same traffic.
///
/// A session runs 20–200 events. Each is a completion (55 %: log-normal latency, median 350 ms,
/// accepted 30 % of the time), a tool call (40 %: tools skewed towards the first few, 10 % failing)
/// or a client error (5 %).
public enum SessionModel {
    public static let tools = ["read_file", "grep", "edit", "run_tests", "search", "list_dir", "git_diff", "web_fetch", "format", "rename_symbol"]
    public static let errorCodes = ["rate_limited", "timeout", "context_overflow", "tool_crash"]

    /// One event of a running session, without its ids and time.
    public enum Event: Sendable, Hashable {
        case completion(latencyMilliseconds: Double, accepted: Bool)
        case toolCall(tool: String, success: Bool)
        case error(code: String)
    }

    /// How many events a new session has before its end.
    public static func length(_ random: inout SeededRandom) -> Int {
        20 + Int(random.next() % 181)
    }

    /// The next event of a running session.
    public static func next(_ random: inout SeededRandom) -> Event {
        let roll = random.unit()
        if roll < 0.55 {
            // Whole microseconds, so that the JSON text stays short.
            let latency = (exp(log(350.0) + 0.8 * random.normal()) * 1000).rounded() / 1000
            return .completion(latencyMilliseconds: latency, accepted: random.unit() < 0.3)
        }
        if roll < 0.95 {
            return .toolCall(tool: tools[skewedIndex(count: tools.count, &random)], success: random.unit() >= 0.1)
        }
        return .error(code: errorCodes[Int(random.next() % UInt64(errorCodes.count))])
    }

    /// Zipf-like: index k has weight 1/(k+1).
    static func skewedIndex(count: Int, _ random: inout SeededRandom) -> Int {
        let total = (1...count).reduce(0.0) { $0 + 1 / Double($1) }
        var target = random.unit() * total
        for index in 0..<count {
            target -= 1 / Double(index + 1)
            if target <= 0 { return index }
        }
        return count - 1
    }
}
