import Foundation

/// Generates realistic telemetry for load tests as JSON, reproducibly from a seed.
///
/// Keeps `sessions` sessions open at once. Each session starts, runs the events of
/// ``SessionModel``, ends, and a new session takes its place. Events carry no `ts` or `id`, so
/// the server assigns them.
public struct SessionEventGenerator: Sendable {

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
        return Session(id: "load-\(self.runID)-\(self.nextSession)", remaining: SessionModel.length(&self.random), started: false)
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
        switch SessionModel.next(&self.random) {
        case .completion(let latency, let accepted):
            return #"{"type":"completion","session_id":"\#(session.id)","latency_ms":\#(latency),"accepted":\#(accepted)}"#
        case .toolCall(let tool, let success):
            return #"{"type":"tool_call","session_id":"\#(session.id)","tool":"\#(tool)","success":\#(success)}"#
        case .error(let code):
            return #"{"type":"error","session_id":"\#(session.id)","code":"\#(code)"}"#
        }
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
}
