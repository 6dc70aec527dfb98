import CoreMetrics
import ServiceContextModule

// Tally's series are the swift-metrics handlers themselves: no wrapper object,
// so a swift-metrics call costs one dynamic dispatch more than a direct one.

extension Counter: CounterHandler {}

extension FloatingCounter: FloatingPointCounterHandler {}

extension Gauge: MeterHandler, RecorderHandler {
    public func set(_ value: Int64) { self.set(Double(value)) }
    /// Lets `gauge.set(10)` pick an overload.
    public func set(_ value: Int) { self.set(Double(value)) }
    public func increment(by amount: Double) { self.add(amount) }
    public func decrement(by amount: Double) { self.add(-amount) }
    public func record(_ value: Int64) { self.set(Double(value)) }
    public func record(_ value: Double) { self.set(value) }
}

extension Histogram: RecorderHandler, TimerHandler {
    public func record(_ value: Int64) { self.observe(Double(value)) }
    public func record(_ value: Double) { self.observe(value) }
    public func recordNanoseconds(_ duration: Int64) { self.observe(nanoseconds: duration) }
}

extension MetricsRegistry {
    /// Removes a series from whichever family holds it (swift-metrics `destroy`).
    func removeSeries(_ handler: AnyObject) {
        let families = self.state.withLock { Array($0.families.values) }
        for family in families where family.removeSeries(identifiedBy: handler) {
            return
        }
    }
}

extension AnyMetricFamily {
    func removeSeries(identifiedBy handler: AnyObject) -> Bool {
        (self as? any SeriesRemoving)?.removeAny(handler) ?? false
    }
}

protocol SeriesRemoving {
    func removeAny(_ handler: AnyObject) -> Bool
}

extension MetricFamily: SeriesRemoving {
    func removeAny(_ handler: AnyObject) -> Bool {
        guard let series = handler as? Series else { return false }
        return self.remove(series: series)
    }
}

/// A handler that wraps a series to attach exemplars from the current `ServiceContext`.
protocol ExemplarHandler: AnyObject {
    var wrapped: AnyObject { get }
}

/// A swift-metrics counter that attaches the current context's exemplar to each increment.
final class ExemplarCounterHandler: CounterHandler, ExemplarHandler, Sendable {
    let series: Counter
    let exemplars: @Sendable (ServiceContext) -> Exemplar?
    var wrapped: AnyObject { series }

    init(series: Counter, exemplars: @escaping @Sendable (ServiceContext) -> Exemplar?) {
        self.series = series
        self.exemplars = exemplars
    }

    func increment(by amount: Int64) {
        if let context = ServiceContext.current, let exemplar = exemplars(context) {
            series.increment(by: amount, exemplar: exemplar)
        } else {
            series.increment(by: amount)
        }
    }

    func reset() { series.reset() }
}

/// A swift-metrics timer or aggregating recorder that attaches the current context's exemplar to each observation.
final class ExemplarHistogramHandler: RecorderHandler, TimerHandler, ExemplarHandler, Sendable {
    let series: Histogram
    let exemplars: @Sendable (ServiceContext) -> Exemplar?
    var wrapped: AnyObject { series }

    init(series: Histogram, exemplars: @escaping @Sendable (ServiceContext) -> Exemplar?) {
        self.series = series
        self.exemplars = exemplars
    }

    func record(_ value: Int64) { observe(Double(value)) }
    func record(_ value: Double) { observe(value) }
    func recordNanoseconds(_ duration: Int64) { observe(Double(duration) * 1e-9) }

    private func observe(_ value: Double) {
        if let context = ServiceContext.current, let exemplar = exemplars(context) {
            series.observe(value, exemplar: exemplar)
        } else {
            series.observe(value)
        }
    }
}
