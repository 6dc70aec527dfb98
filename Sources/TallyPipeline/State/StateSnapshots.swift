import TallyMetrics

/// The window's buckets merged: what latency, acceptance and tool ratios are computed from.
public struct WindowSnapshot: Sendable, Equatable {
    public var completions: Double = 0
    public var accepted: Double = 0
    /// Completion latencies in seconds.
    public var latency = QuantileSketch()
    public var toolCalls: [String: OutcomeCounts] = [:]

    public init() {}

    public mutating func merge(_ bucket: WindowBucketDelta) {
        completions += bucket.completions
        accepted += bucket.accepted
        latency.merge(bucket.latency)
        for (tool, counts) in bucket.toolCalls {
            toolCalls[tool] = (toolCalls[tool] ?? OutcomeCounts()) + counts
        }
    }
}

/// One session as the store holds it.
public struct SessionSnapshot: Sendable, Hashable, Codable {
    public var id: String
    public var firstSeen: Double
    public var lastSeen: Double
    public var toolCalls: Double
    public var endedAt: Double?

    public init(id: String, firstSeen: Double, lastSeen: Double, toolCalls: Double, endedAt: Double?) {
        self.id = id
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.toolCalls = toolCalls
        self.endedAt = endedAt
    }

    /// Seconds from the first to the last event (or the end).
    public var durationSeconds: Double { max(0, max(lastSeen, endedAt ?? lastSeen) - firstSeen) }

    /// Tool calls per minute of session time; sessions shorter than `minimumMinutes` count as that long.
    public func toolsPerMinute(minimumMinutes: Double = 1) -> Double {
        toolCalls / max(durationSeconds / 60, minimumMinutes)
    }
}

/// The productivity score as the leader stored it.
///
/// The leader writes one every round, also when the window holds nothing to score: then
/// `value` is nil ("no data") and `computedAt` still says when the leader last ran, so an old
/// score means the leader is not running, never that the system is idle.
public struct CompositeScore: Sendable, Hashable, Codable {
    /// 0–100; nil when the window held no data to score.
    public var value: Double?
    /// Unix seconds when it was computed.
    public var computedAt: Double
    /// The leader's fencing token when it was written.
    public var token: Int

    public init(value: Double?, computedAt: Double, token: Int) {
        self.value = value
        self.computedAt = computedAt
        self.token = token
    }
}

/// The active sessions' figures: how many, their tools per minute and their mean duration and tool calls.
///
/// The leader computes them once per period from every live session and stores them, so every other
/// read costs the same with ten sessions or a million (only the leader's scan is linear in them).
public struct SessionFigures: Sendable, Equatable {
    /// Sessions not ended with an event within the session timeout.
    public var active: Int = 0
    /// Tool calls per minute of session time, across the active sessions.
    public var toolsPerMinute = QuantileSketch()
    /// Sum of the active sessions' durations, seconds.
    public var durationSum: Double = 0
    /// Sum of the active sessions' tool calls.
    public var toolCallsSum: Double = 0
    /// When the leader computed them (unix seconds, the store's clock).
    public var computedAt: Double

    public init(computedAt: Double) {
        self.computedAt = computedAt
    }

    /// The figures of `sessions`, computed at `computedAt`.
    public init(_ sessions: some Sequence<SessionSnapshot>, minimumSessionMinutes: Double, computedAt: Double) {
        self.computedAt = computedAt
        for session in sessions { add(session, minimumSessionMinutes: minimumSessionMinutes) }
    }

    public mutating func add(_ session: SessionSnapshot, minimumSessionMinutes: Double) {
        active += 1
        toolsPerMinute.add(session.toolsPerMinute(minimumMinutes: minimumSessionMinutes))
        durationSum += session.durationSeconds
        toolCallsSum += session.toolCalls
    }

    public var meanDurationSeconds: Double? { active == 0 ? nil : durationSum / Double(active) }
    public var meanToolCalls: Double? { active == 0 ? nil : toolCallsSum / Double(active) }
}
