import CoreMetrics
import Logging
import ServiceContextModule

/// A `swift-metrics` backend that records into a ``MetricsRegistry``.
///
/// `MetricsSystem.bootstrap(TallyMetricsFactory(registry: registry))` routes
/// `Counter`, `FloatingPointCounter`, `Meter`, `Recorder` (aggregating →
/// histogram, otherwise gauge) and `Timer` (→ histogram in seconds) into the
/// registry. Labels such as `http.server.request.duration` become valid names
/// (`http_server_request_duration_seconds`), dimensions become labels under the
/// family's series limit, and `destroy…` removes the series. A label that
/// cannot be registered (an invalid name, or a name already used with another
/// definition) never crashes: it is logged once, counted in
/// `tally_metrics_factory_errors_total`, and recorded into a detached series.
///
/// **Exemplars** (opt-in, ``exemplarsFromTraceContext``): while a task runs in a `ServiceContext`
/// from which ``exemplars`` makes an exemplar (``TraceIdentifiers`` set by a tracer or by
/// `tally serve`'s `traceparent` handling), counter increments and timer and aggregating
/// recorder observations carry it. The lookup is a task-local read on every swift-metrics call
/// (about 20 ns more here, see `Benchmarks/`), so it is off unless asked for; direct calls never pay it.
public struct TallyMetricsFactory: MetricsFactory {
    public let registry: MetricsRegistry
    /// Buckets of the histograms behind `Timer`, in seconds.
    public var timerBuckets: HistogramBuckets
    /// Buckets of the histograms behind aggregating `Recorder`s.
    public var recorderBuckets: HistogramBuckets
    /// The series limit of every family this factory creates.
    public var maxSeriesPerFamily: Int
    /// Makes the exemplar of a recording from the current `ServiceContext`; nil (the default): no
    /// exemplars, and the handlers are the series themselves. ``exemplarsFromTraceContext`` reads
    /// ``TraceIdentifiers``; for another tracer, read its own span context here.
    public var exemplars: (@Sendable (ServiceContext) -> Exemplar?)?

    /// The exemplar of the context's ``TraceIdentifiers`` (`trace_id`, `span_id`).
    public static let exemplarsFromTraceContext: @Sendable (ServiceContext) -> Exemplar? = { $0.traceExemplar }
    let errors: Counter

    public init(
        registry: MetricsRegistry,
        timerBuckets: HistogramBuckets = .defaultSeconds,
        recorderBuckets: HistogramBuckets = .defaultSeconds,
        maxSeriesPerFamily: Int = MetricsRegistry.defaultMaxSeries,
        exemplars: (@Sendable (ServiceContext) -> Exemplar?)? = nil
    ) {
        self.exemplars = exemplars
        self.registry = registry
        self.timerBuckets = timerBuckets
        self.recorderBuckets = recorderBuckets
        self.maxSeriesPerFamily = maxSeriesPerFamily
        self.errors = (try? registry.family(
            Counter.self,
            name: "tally_metrics_factory_errors_total",
            help: "swift-metrics handlers that could not be registered (see the log) and record into a detached series.",
            labelNames: [],
            options: NoOptions()
        ).labels([String]())) ?? Counter()
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let counter = self.series(Counter.self, label: label, dimensions: dimensions, options: NoOptions(), help: "Counter \(label)")
        return self.exemplars.map { ExemplarCounterHandler(series: counter, exemplars: $0) } ?? counter
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        self.series(FloatingCounter.self, label: label, dimensions: dimensions, options: NoOptions(), help: "Counter \(label)")
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        self.series(Gauge.self, label: label, dimensions: dimensions, options: NoOptions(), help: "Meter \(label)")
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        if aggregate {
            let histogram = self.series(Histogram.self, label: label, dimensions: dimensions, options: self.recorderBuckets, help: "Recorder \(label)")
            return self.exemplars.map { ExemplarHistogramHandler(series: histogram, exemplars: $0) } ?? histogram
        }
        return self.series(Gauge.self, label: label, dimensions: dimensions, options: NoOptions(), help: "Recorder \(label)")
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        var name = Self.metricName(from: label)
        if !name.hasSuffix("_seconds") { name += "_seconds" }
        let histogram = self.series(Histogram.self, name: name, label: label, dimensions: dimensions, options: self.timerBuckets, unit: "seconds", help: "Timer \(label)")
        return self.exemplars.map { ExemplarHistogramHandler(series: histogram, exemplars: $0) } ?? histogram
    }

    public func destroyCounter(_ handler: any CounterHandler) { self.registry.removeSeries(Self.series(of: handler)) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { self.registry.removeSeries(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { self.registry.removeSeries(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { self.registry.removeSeries(Self.series(of: handler)) }
    public func destroyTimer(_ handler: any TimerHandler) { self.registry.removeSeries(Self.series(of: handler)) }

    /// The series behind a handler: itself, or the one an exemplar handler wraps.
    static func series(of handler: AnyObject) -> AnyObject {
        (handler as? any ExemplarHandler)?.wrapped ?? handler
    }

    private func series<Series: MetricSeries>(
        _ type: Series.Type,
        label: String,
        dimensions: [(String, String)],
        options: Series.Options,
        help: String
    ) -> Series {
        self.series(type, name: Self.metricName(from: label), label: label, dimensions: dimensions, options: options, unit: nil, help: help)
    }

    private func series<Series: MetricSeries>(
        _ type: Series.Type,
        name: String,
        label: String,
        dimensions: [(String, String)],
        options: Series.Options,
        unit: String?,
        help: String
    ) -> Series {
        let pairs = dimensions.map { (Self.labelName(from: $0.0), $0.1) }
        let labelNames = Array(Set(pairs.map(\.0))).sorted()
        do {
            let family = try self.registry.family(
                type, name: name, help: help, labelNames: labelNames, unit: unit, options: options, maxSeries: self.maxSeriesPerFamily
            )
            return family.labels(pairs)
        } catch {
            self.errors.increment()
            self.registry.logger.error(
                "swift-metrics handler not exported",
                metadata: ["label": "\(label)", "dimensions": "\(dimensions.map(\.0))", "error": "\(error)"]
            )
            return Series(options: options)
        }
    }

    /// Turns a swift-metrics label into a Prometheus name: every character
    /// outside `[a-zA-Z0-9_:]` becomes `_`, and a leading digit gets a `_` prefix.
    public static func metricName(from label: String) -> String {
        Self.sanitize(label, allowColon: true)
    }

    static func labelName(from dimension: String) -> String {
        Self.sanitize(dimension, allowColon: false)
    }

    private static func sanitize(_ text: String, allowColon: Bool) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_":
                scalars.append(scalar)
            case ":" where allowColon:
                scalars.append(scalar)
            default:
                scalars.append("_")
            }
        }
        var name = String(scalars)
        if name.isEmpty || name.first!.isNumber { name = "_" + name }
        return name
    }
}
