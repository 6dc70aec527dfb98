import Foundation
import TallyPipeline
import TallyTesting

/// Seeded sessions of ``SessionModel`` (the load generator's model) as timed events with ids: a
/// start, the model's events a few seconds apart, and an end for most sessions.
struct SessionGenerator {
    var random: SeededRandom
    /// Every timestamp falls in [now - span, now - 1].
    let now: Double
    let span: Double

    init(seed: UInt64, now: Double, span: Double = 200) {
        self.random = SeededRandom(seed: seed)
        self.now = now
        self.span = span
    }

    mutating func events(count: Int) -> [TelemetryEvent] {
        var events: [TelemetryEvent] = []
        events.reserveCapacity(count)
        var session = 0
        while events.count < count {
            session += 1
            let id = "sess-\(session)"
            var ts = now - span + random.unit() * (span - 60)
            var serial = 0
            func next() -> String { serial += 1; return "\(id)-\(serial)" }
            events.append(.sessionStart(id: next(), session: id, at: ts))
            let length = SessionModel.length(&random)
            for _ in 0..<length where events.count < count {
                ts = min(now - 1, ts + random.unit() * 4)
                switch SessionModel.next(&random) {
                case .completion(let latency, let accepted):
                    events.append(.completion(id: next(), session: id, at: ts, latencyMilliseconds: latency, accepted: accepted))
                case .toolCall(let tool, let success):
                    events.append(.toolCall(id: next(), session: id, at: ts, tool: tool, success: success))
                case .error(let code):
                    events.append(.clientError(id: next(), session: id, at: ts, code: code))
                }
            }
            if events.count < count, random.unit() < 0.6 {
                events.append(.sessionEnd(id: next(), session: id, at: min(now - 1, ts + 1)))
            }
        }
        return events
    }
}

/// The derived values computed directly, exactly, from the events.
struct ExactMetrics {
    var completions = 0.0
    var accepted = 0.0
    var latencies: [Double] = []
    var tools: [String: OutcomeCounts] = [:]
    var codes: [String: Double] = [:]
    var sessions: [String: SessionSnapshot] = [:]

    init(_ events: [TelemetryEvent]) {
        for event in events {
            var session = sessions[event.sessionID] ?? SessionSnapshot(id: event.sessionID, firstSeen: event.timestamp, lastSeen: event.timestamp, toolCalls: 0, endedAt: nil)
            session.firstSeen = min(session.firstSeen, event.timestamp)
            session.lastSeen = max(session.lastSeen, event.timestamp)
            switch event.type {
            case .completion:
                completions += 1
                if event.accepted == true { accepted += 1 }
                latencies.append(event.latencyMilliseconds! / 1000)
            case .toolCall:
                var counts = tools[event.tool!] ?? OutcomeCounts()
                if event.success == true { counts.success += 1 } else { counts.failure += 1 }
                tools[event.tool!] = counts
                session.toolCalls += 1
            case .error:
                codes[event.code!, default: 0] += 1
            case .sessionEnd:
                session.endedAt = event.timestamp
            case .sessionStart:
                break
            }
            sessions[event.sessionID] = session
        }
        latencies.sort()
    }

    var activeSessions: [SessionSnapshot] {
        sessions.values.filter { $0.endedAt == nil }.sorted { $0.id < $1.id }
    }

    /// The value at rank q·(n−1), as the sketch defines quantiles.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        sorted[Int((q * Double(sorted.count - 1)).rounded(.down))]
    }
}
