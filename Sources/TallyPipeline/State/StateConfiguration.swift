/// Window, expiry and cardinality settings shared by every ``StateStore``.
///
/// All workers and readers of one state must use the same values.
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

    /// The value past-the-cap tools and codes are counted under.
    public static let overflowValue = "__overflow__"

    public init() {}

    public static let `default` = StateConfiguration()

    /// Buckets in the window.
    public var bucketCount: Int { max(1, windowSeconds / bucketSeconds) }

    /// The start times of the window's buckets at `now`, oldest first.
    public func windowBuckets(now: Double) -> [Int] {
        let current = DeltaCalculator.bucketStart(of: now, bucketSeconds: bucketSeconds)
        return (0..<bucketCount).reversed().map { current - $0 * bucketSeconds }
    }

    /// The oldest bucket start still in the window at `now`.
    public func oldestBucket(now: Double) -> Int {
        DeltaCalculator.bucketStart(of: now, bucketSeconds: bucketSeconds) - (bucketCount - 1) * bucketSeconds
    }
}
