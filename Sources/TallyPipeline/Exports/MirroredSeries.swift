import Synchronization
import TallyMetrics

/// A counter whose value is copied from the shared state (a global total that
/// only the store knows), rather than incremented in this process.
///
/// `set` is thread-safe; exposed like a core ``Counter`` (`_total`, `_created`).
public final class MirroredCounter: MetricSeries {
    public static var kind: MetricKind { .counter }
    public let createdAt: Double
    private let bits = Atomic<UInt64>(0)

    public init(options: NoOptions = NoOptions()) {
        self.createdAt = _unixNow()
    }

    public func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }

    public var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }

    public func _writeSamples(to writer: inout ExpositionWriter, name: String, labels: RenderedLabels) {
        writeCount(to: &writer, name: name, suffix: "_total", labels: labels, value: value)
        writer.writeCreated(name: name, labels: labels, createdAt: createdAt)
    }
}

/// A summary whose quantiles, count and sum are those of a sketch read from the
/// shared state (the window's merged buckets), replaced at each refresh.
///
/// Thread-safe (a mutex around the snapshot); quantiles come from the sketch, so
/// within its relative error.
public final class WindowSummary: MetricSeries {
    public static var kind: MetricKind { .summary }
    public let options: SummaryOptions
    public let createdAt: Double
    private let sketch = Mutex(QuantileSketch())

    public init(options: SummaryOptions) {
        self.options = options
        self.createdAt = _unixNow()
    }

    public func set(_ snapshot: QuantileSketch) { sketch.withLock { $0 = snapshot } }

    public var snapshot: QuantileSketch { sketch.withLock { $0 } }

    public func _writeSamples(to writer: inout ExpositionWriter, name: String, labels: RenderedLabels) {
        let current = snapshot
        for q in options.quantiles {
            writer.writeQuantile(name: name, labels: labels, quantile: q, value: current.quantile(q) ?? .nan)
        }
        writeCount(to: &writer, name: name, suffix: "_count", labels: labels, value: current.count)
        writer.writeSample(name: name, suffix: "_sum", labels: labels, value: current.sum)
        writer.writeCreated(name: name, labels: labels, createdAt: createdAt)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a count as an integer when it is one (weighted counts can have fractions).
func writeCount(to writer: inout ExpositionWriter, name: String, suffix: String, labels: RenderedLabels, value: Double) {
    if value.rounded() == value, abs(value) < 0x1p53 {
        writer.writeSample(name: name, suffix: suffix, labels: labels, value: Int64(value))
    } else {
        writer.writeSample(name: name, suffix: suffix, labels: labels, value: value)
    }
}

func _unixNow() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
