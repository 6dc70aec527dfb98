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
