import TallyMetrics

/// Window, expiry and cardinality settings shared by every ``StateStore``.
///
/// All workers and readers of one state must use the same values.
///
/// **The window.** Events are counted in buckets `bucketSeconds` wide, by their own timestamp.
/// At `now` the window is the current, partial bucket plus `windowSeconds / bucketSeconds`
/// whole buckets before it (31 buckets by default). So every event of the last `windowSeconds`
/// is in, and an event leaves the window less than `bucketSeconds` after it is `windowSeconds`
/// old: at `now`, an event of age `a` counts when `a ≤ windowSeconds`, never when
/// `a ≥ windowSeconds + bucketSeconds`, and in between while its bucket is still the oldest one
/// read. At a bucket boundary the window is exactly `windowSeconds`.
public struct StateConfiguration: Sendable, Hashable {
    /// The sliding window W in seconds (default 300).
    public var windowSeconds: Int = 300
    /// The width of one window bucket in seconds (default 10); W is a multiple of it.
    public var bucketSeconds: Int = 10
    /// A session with no event for this long is no longer active and is forgotten (default 1800 s).
    public var sessionTimeoutSeconds: Int = 1800
    /// Distinct tool names kept; later ones count under ``overflowValue``.
    public var maxTools: Int = 100
    /// Distinct client error codes kept; later ones count under ``overflowValue``.
    public var maxErrorCodes: Int = 100
    /// Sessions shorter than this count as this long when computing tools per minute.
    public var minimumSessionMinutes: Double = 1

    /// The value past-the-cap tools and codes are counted under: the label value of a metric
    /// family's overflow series, since tools and codes become label values.
    public static let overflowValue = metricOverflowValue

    public init() {}

    public static let `default` = StateConfiguration()

    /// The longest window a node reads: 361 buckets of 10 s per refresh.
    public static let maxWindowSeconds = 3600

    /// Throws unless the window is a whole number of buckets, from one bucket to ``maxWindowSeconds``.
    public func validate() throws(InvalidSetting) {
        guard bucketSeconds >= 1 else { throw InvalidSetting("the bucket width must be at least 1 s, got \(bucketSeconds)") }
        guard windowSeconds >= bucketSeconds, windowSeconds <= Self.maxWindowSeconds, windowSeconds % bucketSeconds == 0 else {
            throw InvalidSetting("--window must be a multiple of \(bucketSeconds) s from \(bucketSeconds) to \(Self.maxWindowSeconds) s, got \(windowSeconds)")
        }
        guard sessionTimeoutSeconds >= 1 else { throw InvalidSetting("the session timeout must be at least 1 s, got \(sessionTimeoutSeconds)") }
    }

    /// The settings every node reading or writing one state must share, as one line
    /// (stored at `{tally}:settings` by the first node and compared by the others).
    public var sharedSettings: String {
        "window_seconds=\(windowSeconds) bucket_seconds=\(bucketSeconds) session_timeout_seconds=\(sessionTimeoutSeconds) max_tools=\(maxTools) max_error_codes=\(maxErrorCodes)"
    }

    /// Whole buckets in the window: W / bucket width.
    public var wholeBuckets: Int { max(1, windowSeconds / bucketSeconds) }

    /// Buckets a window read merges: the current, partial bucket and ``wholeBuckets`` before it.
    public var bucketCount: Int { wholeBuckets + 1 }

    /// The start times of the window's buckets at `now`, oldest first: ``bucketCount`` of them,
    /// from ``oldestBucket(now:)`` to the bucket holding `now`.
    public func windowBuckets(now: Double) -> [Int] {
        let current = DeltaCalculator.bucketStart(of: now, bucketSeconds: bucketSeconds)
        return (0...wholeBuckets).reversed().map { current - $0 * bucketSeconds }
    }

    /// The oldest bucket start still in the window at `now`: the bucket that holds `now − W`.
    /// Writers drop changes to older buckets; readers never read them.
    public func oldestBucket(now: Double) -> Int {
        DeltaCalculator.bucketStart(of: now, bucketSeconds: bucketSeconds) - wholeBuckets * bucketSeconds
    }

    /// The first moment (unix seconds) at which the bucket starting at `start` is no longer in the
    /// window: `start + W + bucket width`. A store must keep the bucket at least until then.
    public func bucketLeavesWindow(_ start: Int) -> Int {
        start + wholeBuckets * bucketSeconds + bucketSeconds
    }
}
