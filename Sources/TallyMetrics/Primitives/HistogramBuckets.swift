/// The finite upper bounds of a classic histogram; `+Inf` is always added. Optionally the
/// histogram is also native (``native(maxBuckets:)``).
///
/// Validated on creation: finite, strictly increasing, at least one bound.
public struct HistogramBuckets: Sendable, Hashable, CustomStringConvertible {
    /// The most finite bounds a histogram may have.
    public static let maxBounds = 1000
    /// The most buckets a native histogram may be asked to keep, and the fewest.
    public static let nativeBucketLimits = 8...4096

    public let upperBounds: [Double]
    /// When set, the histogram is also a Prometheus native histogram in the protobuf format, with
    /// at most this many populated buckets per sign: exponential buckets of schema 6 (1.09 % wide),
    /// halved in resolution (schema 5, 4, … down to −4) at exposition while there are more.
    public private(set) var nativeMaxBuckets: Int?
    /// The bounds as exposition text, then `+Inf`: formatted once, not per render.
    let renderedBounds: [String]

    /// Prometheus' default request-duration buckets, in seconds (11 bounds).
    public static let defaultSeconds = HistogramBuckets(validated: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])

    public init(_ upperBounds: [Double]) throws(MetricsRegistryError) {
        guard !upperBounds.isEmpty else {
            throw .invalidBuckets(upperBounds, reason: "a histogram needs at least one finite bucket bound")
        }
        guard upperBounds.count <= Self.maxBounds else {
            throw .invalidBuckets([], reason: "\(upperBounds.count) bounds; at most \(Self.maxBounds) are supported")
        }
        for (index, bound) in upperBounds.enumerated() {
            guard bound.isFinite else {
                throw .invalidBuckets(upperBounds, reason: "bound \(bound) is not finite (+Inf is added by Tally)")
            }
            if index > 0, upperBounds[index - 1] >= bound {
                throw .invalidBuckets(upperBounds, reason: "bounds must be strictly increasing (\(upperBounds[index - 1]) then \(bound))")
            }
        }
        self.init(validated: upperBounds)
    }

    init(validated upperBounds: [Double]) {
        self.upperBounds = upperBounds
        self.renderedBounds = upperBounds.map(formatExpositionDouble) + ["+Inf"]
    }

    /// These buckets, and native buckets too (see ``nativeMaxBuckets``): scrapers that negotiate
    /// protobuf get both, the text formats the classic buckets only, as client_golang does.
    /// Recording also goes into a schema-6 sketch: a few nanoseconds more per observation.
    public func native(maxBuckets: Int = 160) throws(MetricsRegistryError) -> HistogramBuckets {
        guard Self.nativeBucketLimits.contains(maxBuckets) else {
            throw .invalidBuckets(upperBounds, reason: "a native histogram keeps \(Self.nativeBucketLimits.lowerBound) to \(Self.nativeBucketLimits.upperBound) buckets, not \(maxBuckets)")
        }
        var buckets = self
        buckets.nativeMaxBuckets = maxBuckets
        return buckets
    }

    /// `count` bounds starting at `start`, each `factor` times the previous one.
    public static func exponential(start: Double, factor: Double, count: Int) throws(MetricsRegistryError) -> HistogramBuckets {
        guard start > 0, factor > 1, count > 0 else {
            throw .invalidBuckets([], reason: "exponential buckets need start > 0, factor > 1 and count > 0")
        }
        var bounds: [Double] = []
        var bound = start
        for _ in 0..<count {
            bounds.append(bound)
            bound *= factor
        }
        return try HistogramBuckets(bounds)
    }

    /// `count` bounds starting at `start`, `width` apart.
    public static func linear(start: Double, width: Double, count: Int) throws(MetricsRegistryError) -> HistogramBuckets {
        guard width > 0, count > 0 else {
            throw .invalidBuckets([], reason: "linear buckets need width > 0 and count > 0")
        }
        return try HistogramBuckets((0..<count).map { start + Double($0) * width })
    }

    public var description: String {
        "[" + self.upperBounds.map { formatExpositionDouble($0) }.joined(separator: ", ") + "]"
            + (nativeMaxBuckets.map { ", native with at most \($0) buckets" } ?? "")
    }
}
