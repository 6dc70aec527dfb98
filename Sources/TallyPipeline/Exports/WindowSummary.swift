import Foundation
import Synchronization
import TallyMetrics

/// A summary whose quantiles, count and sum are those of a sketch read from the
/// shared state (the window's merged buckets), replaced at each refresh.
///
/// Thread-safe (a mutex around the snapshot); quantiles come from the sketch, so
/// within its relative error.
public final class WindowSummary: MetricSeries {
    public static var kind: MetricKind { .summary }
    public let options: SummaryOptions
    public let createdAt: Double
    private let state = Mutex((sketch: QuantileSketch(), known: true))

    public init(options: SummaryOptions) {
        self.options = options
        self.createdAt = Date().timeIntervalSince1970
    }

    public func set(_ snapshot: QuantileSketch) { state.withLock { $0 = (snapshot, true) } }

    /// The shared state could not be read: the quantiles read NaN until the next ``set(_:)``.
    /// `_count` and `_sum` keep their last values (OpenMetrics does not allow them to be NaN).
    public func markUnknown() { state.withLock { $0.known = false } }

    public var snapshot: QuantileSketch { state.withLock { $0.sketch } }

    /// Whether the quantiles come from a read of the state (false after ``markUnknown()``).
    public var isKnown: Bool { state.withLock { $0.known } }

    /// The same lines as a core ``Summary``: quantiles, `_count`, `_sum`.
    public static func _sampleLines(options: SummaryOptions) -> [SampleLine] {
        Summary._sampleLines(options: options)
    }

    public func _writeSamples(to writer: inout ExpositionWriter, lines: SampleLinePrefixes) {
        let (current, known) = state.withLock { $0 }
        let quantiles = options.quantiles
        for (index, q) in quantiles.enumerated() {
            writer.writeLine(lines[index], value: known ? current.quantile(q) ?? .nan : .nan)
        }
        writeCount(to: &writer, line: lines[quantiles.count], value: current.count)
        writer.writeLine(lines[quantiles.count + 1], value: current.sum)
        writer.writeCreated(lines[quantiles.count + 2], createdAt: createdAt)
    }

    /// In protobuf the window's sketch is a native histogram (schema 6), losslessly; while the
    /// state cannot be read it is the last one read.
    public static var _protobufType: ProtobufMetricType { .histogram }

    public func _writeProtobuf(to writer: inout ProtobufWriter) {
        writer.nativeHistogram(snapshot, createdAt: createdAt)
    }
}

