/// Settings shared by the series of a summary family.
public struct SummaryOptions: Sendable, Hashable {
    /// The quantiles exposed, each in 0…1.
    public var quantiles: [Double]
    /// The bound on sketch bins when a snapshot is taken (lowest bins collapse past it).
    public var maxBins: Int

    public static let `default` = SummaryOptions(validated: [0.5, 0.9, 0.95, 0.99], maxBins: 2048)

    public init(quantiles: [Double] = [0.5, 0.9, 0.95, 0.99], maxBins: Int = 2048) throws(MetricsRegistryError) {
        for q in quantiles where !(q >= 0 && q <= 1) {
            throw .invalidQuantiles(quantiles, reason: "quantile \(q) is outside 0…1")
        }
        guard Set(quantiles).count == quantiles.count else {
            throw .invalidQuantiles(quantiles, reason: "quantiles repeat")
        }
        guard maxBins >= 16 else {
            throw .invalidQuantiles(quantiles, reason: "max bins \(maxBins) is below 16")
        }
        self.init(validated: quantiles.sorted(), maxBins: maxBins)
    }

    init(validated quantiles: [Double], maxBins: Int) {
        self.quantiles = quantiles
        self.maxBins = maxBins
    }
}

/// A Prometheus summary whose quantiles come from a relative-error sketch.
///
/// Every observation since creation (or `reset`) is kept in logarithmic bins,
/// so quantiles are within 0.55 % of the true value at that rank, and sketches
/// from several processes can be merged exactly. `observe` is lock-free: an
/// exact bin index from the float's bits, one relaxed add into the bin and one
/// into the sum.
public final class Summary: MetricSeries {
    public static var kind: MetricKind { .summary }

    public let options: SummaryOptions
    @usableFromInline let bins: AtomicSketchBins
    public let createdAt: Double

    public init(options: SummaryOptions) {
        self.options = options
        self.bins = AtomicSketchBins()
        self.createdAt = currentUnixTime()
    }

    @inlinable @inline(__always)
    public func observe(_ value: Double) {
        self.bins.record(value)
    }

    @inlinable @inline(__always)
    public func observe(nanoseconds: Int64) {
        self.bins.record(Double(nanoseconds) * 1e-9)
    }

    /// A mergeable copy of everything observed.
    public func snapshot() -> QuantileSketch {
        self.bins.snapshot(maxBins: self.options.maxBins)
    }

    public func reset() {
        self.bins.reset()
    }

    public static func _sampleLines(options: SummaryOptions) -> [SampleLine] {
        options.quantiles.map { SampleLine(suffix: "", extraLabel: ("quantile", formatExpositionDouble($0))) }
            + [SampleLine(suffix: "_count"), SampleLine(suffix: "_sum")]
    }

    public func _writeSamples(to writer: inout ExpositionWriter, lines: SampleLinePrefixes) {
        let sketch = self.snapshot()
        let quantiles = self.options.quantiles
        for (index, q) in quantiles.enumerated() {
            writer.writeLine(lines[index], value: sketch.quantile(q) ?? .nan)
        }
        writer.writeLine(lines[quantiles.count], value: Int64(sketch.count))
        writer.writeLine(lines[quantiles.count + 1], value: sketch.sum)
        writer.writeCreated(lines[quantiles.count + 2], createdAt: self.createdAt)
    }

    /// In protobuf a summary is its sketch as a native histogram (schema 6), losslessly.
    public static var _protobufType: ProtobufMetricType { .histogram }

    public func _writeProtobuf(to writer: inout ProtobufWriter) {
        writer.nativeHistogram(self.snapshot(), createdAt: self.createdAt)
    }
}
