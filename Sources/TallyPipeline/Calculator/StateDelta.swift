import TallyMetrics

/// Success and failure counts of one tool (weighted, so doubles).
public struct OutcomeCounts: Sendable, Hashable, Codable {
    public var success: Double
    public var failure: Double

    public init(success: Double = 0, failure: Double = 0) {
        self.success = success
        self.failure = failure
    }

    public var total: Double { success + failure }

    /// success / total, or nil without calls.
    public var successRatio: Double? { total > 0 ? success / total : nil }

    public static func + (a: OutcomeCounts, b: OutcomeCounts) -> OutcomeCounts {
        OutcomeCounts(success: a.success + b.success, failure: a.failure + b.failure)
    }

    public static func += (a: inout OutcomeCounts, b: OutcomeCounts) {
        a.success += b.success
        a.failure += b.failure
    }
}

/// What one batch adds to one window bucket.
public struct WindowBucketDelta: Sendable, Equatable {
    public var completions: Double = 0
    public var accepted: Double = 0
    /// Completion latencies in seconds.
    public var latency = QuantileSketch()
    public var toolCalls: [String: OutcomeCounts] = [:]

    public init() {}

    /// Counts one completion (`weight` times).
    mutating func addCompletion(latencySeconds: Double, accepted: Bool, weight: Double) {
        completions += weight
        if accepted { self.accepted += weight }
        latency.add(latencySeconds, weight: weight)
    }
}

/// What one batch adds to one session.
public struct SessionDelta: Sendable, Equatable {
    /// Earliest and latest event time seen in the batch (unix seconds).
    public var firstSeen: Double
    public var lastSeen: Double
    public var toolCalls: Double = 0
    /// Time of the batch's `session_end`, if any.
    public var endedAt: Double?

    public init(firstSeen: Double, lastSeen: Double, toolCalls: Double = 0, endedAt: Double? = nil) {
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.toolCalls = toolCalls
        self.endedAt = endedAt
    }

    /// Widens first and last seen to include an event at `timestamp`.
    mutating func see(at timestamp: Double) {
        firstSeen = min(firstSeen, timestamp)
        lastSeen = max(lastSeen, timestamp)
    }

    /// Records a `session_end` at `timestamp` (the latest one counts).
    mutating func end(at timestamp: Double) {
        endedAt = max(endedAt ?? timestamp, timestamp)
    }
}

/// Every change a batch makes to the shared state, computed by ``DeltaCalculator``.
///
/// Deltas only add (counts, bins, minima and maxima), so applying the deltas of
/// disjoint batches in any order gives the same state: this is what lets any
/// worker apply any batch.
public struct StateDelta: Sendable, Equatable {
    /// Window buckets by start time (unix seconds, a multiple of the bucket width).
    public var buckets: [Int: WindowBucketDelta] = [:]
    /// All-time tool calls by raw tool name (the store applies the cardinality cap).
    public var toolCalls: [String: OutcomeCounts] = [:]
    /// All-time client errors by raw code (capped by the store).
    public var errorCodes: [String: Double] = [:]
    public var sessions: [String: SessionDelta] = [:]
    /// Events by type (unweighted), for the pipeline's processed counter.
    public var eventsByType: [EventType: Int] = [:]

    public init() {}

    public var isEmpty: Bool { eventsByType.isEmpty }
}
