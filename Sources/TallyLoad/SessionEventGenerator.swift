import Foundation

/// Generates realistic telemetry for load tests, reproducibly from a seed.
///
/// Keeps `sessions` sessions open at once. Each session starts, then emits:
/// - completions with log-normal latencies (median 350 ms) that are accepted 30 % of the time;
/// - tool calls over a skewed set of tools (the first few dominate), 5 % of them failing;
/// - now and then an error;
/// and after 20–200 events it ends and a new session takes its place.
/// Events carry no `ts` or `id`, so the server assigns them.
public struct SessionEventGenerator: Sendable {
    public static let tools = ["read_file", "grep", "edit", "run_tests", "search", "list_dir", "git_diff", "web_fetch", "format", "rename_symbol"]
    static let errorCodes = ["rate_limited", "timeout", "context_overflow", "tool_crash"]

    struct Session: Sendable {
        var id: String
        var remaining: Int
        var started: Bool
    }

    private var random: SeededRandom
    private var sessions: [Session]
    private var nextSession = 0
    private let runID: String

    public init(sessions: Int, seed: UInt64) {
        self.random = SeededRandom(seed: seed)
        self.runID = String(seed, radix: 36)
        self.sessions = []
        for _ in 0..<max(1, sessions) {
            self.sessions.append(self.newSession())
        }
    }

    private mutating func newSession() -> Session {
        defer { self.nextSession += 1 }
        return Session(id: "load-\(self.runID)-\(self.nextSession)", remaining: 20 + Int(self.random.next() % 181), started: false)
    }

    /// The next event as one JSON object (no trailing newline).
    public mutating func next() -> String {
        let slot = Int(self.random.next() % UInt64(self.sessions.count))
        var session = self.sessions[slot]
        defer { self.sessions[slot] = session }
        if !session.started {
            session.started = true
            return #"{"type":"session_start","session_id":"\#(session.id)"}"#
        }
        session.remaining -= 1
        if session.remaining <= 0 {
            let ended = #"{"type":"session_end","session_id":"\#(session.id)"}"#
            session = self.newSession()
            return ended
        }
        let roll = self.random.unit()
        if roll < 0.55 {
            let latency = exp(log(350.0) + 0.8 * self.random.normal())
            let accepted = self.random.unit() < 0.3
            return #"{"type":"completion","session_id":"\#(session.id)","latency_ms":\#(String(format: "%.3f", latency)),"accepted":\#(accepted)}"#
        }
        if roll < 0.99 {
            // Zipf-like: tool k has weight 1/(k+1).
            let tool = Self.tools[self.skewedIndex(count: Self.tools.count)]
            let success = self.random.unit() >= 0.05
            return #"{"type":"tool_call","session_id":"\#(session.id)","tool":"\#(tool)","success":\#(success)}"#
        }
        let code = Self.errorCodes[Int(self.random.next() % UInt64(Self.errorCodes.count))]
        return #"{"type":"error","session_id":"\#(session.id)","code":"\#(code)"}"#
    }

    /// `count` events as an NDJSON body.
    public mutating func batch(_ count: Int) -> String {
        var body = ""
        body.reserveCapacity(count * 110)
        for _ in 0..<count {
            body += self.next()
            body += "\n"
        }
        return body
    }

    private mutating func skewedIndex(count: Int) -> Int {
        let total = (1...count).reduce(0.0) { $0 + 1 / Double($1) }
        var target = self.random.unit() * total
        for index in 0..<count {
            target -= 1 / Double(index + 1)
            if target <= 0 { return index }
        }
        return count - 1
    }
}
