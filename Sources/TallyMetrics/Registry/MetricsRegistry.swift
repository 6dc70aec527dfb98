import Logging
import Synchronization

/// Owns every metric family of a process and renders them.
///
/// Registration is fail-fast: names, labels, buckets and quantiles are
/// validated, and a name registered twice with different definitions throws a
/// ``MetricsRegistryError`` naming both; nothing here calls `fatalError` on
/// user input. Rendering takes each family's lock only long enough to copy its
/// list of series, so it never blocks recording. Thread-safe.
public final class MetricsRegistry: Sendable {
    /// The default cap on distinct label sets per family.
    public static let defaultMaxSeries = 2000

    let state = Mutex(RegistryState())
    let logger: Logger
    let collectHooks = Mutex<[@Sendable () -> Void]>([])
    /// Counts lookups diverted to overflow series, per metric.
    let overflowFamily: MetricFamily<Counter>

    public init(logger: Logger = Logger(label: "tally.metrics")) {
        self.logger = logger
        let overflowName = "tally_metrics_overflow"
        self.overflowFamily = MetricFamily<Counter>(
            descriptor: MetricDescriptor(
                name: overflowName,
                kind: .counter,
                help: "Lookups of new label sets diverted to a family's overflow series after it reached its series limit.",
                unit: nil,
                labelNames: ["metric"],
                seriesDefinition: ""
            ),
            options: NoOptions(),
            maxSeries: 10_000,
            logger: logger,
            overflowCounter: { nil }
        )
        self.state.withLock { state in
            state.families[overflowName] = self.overflowFamily
            for sample in MetricNameRules.sampleNames(base: overflowName, kind: .counter) {
                state.sampleOwners[sample] = overflowName
            }
        }
    }

    // MARK: - Registration

    /// How a second registration of an existing name is treated.
    enum RegistrationMode {
        /// Any second registration throws.
        case unique
        /// An identical definition returns the existing family (the swift-metrics path).
        case getOrCreate
    }

    func family<Series: MetricSeries>(
        _ type: Series.Type,
        name: String,
        help: String,
        unit: String?,
        labelNames: [String],
        options: Series.Options,
        seriesDefinition: String,
        maxSeries: Int,
        mode: RegistrationMode
    ) throws(MetricsRegistryError) -> MetricFamily<Series> {
        let base = try MetricNameRules.baseName(for: name, kind: Series.kind, unit: unit)
        try MetricNameRules.validateLabelNames(labelNames, metric: name)
        guard maxSeries >= 1 else { throw .invalidSeriesLimit(metric: name, limit: maxSeries) }
        let descriptor = MetricDescriptor(
            name: base,
            kind: Series.kind,
            help: help,
            unit: unit,
            labelNames: labelNames,
            seriesDefinition: "\(Series.self)" + (seriesDefinition.isEmpty ? "" : " \(seriesDefinition)")
        )
        let result = self.state.withLock { state -> Result<MetricFamily<Series>, MetricsRegistryError> in
            if let existing = state.families[base] {
                guard let same = existing as? MetricFamily<Series>, same.descriptor == descriptor else {
                    return .failure(.conflictingDefinition(metric: base, existing: existing.anyDescriptor.description, requested: descriptor.description))
                }
                switch mode {
                case .unique: return .failure(.alreadyRegistered(metric: base, existing: existing.anyDescriptor.description))
                case .getOrCreate: return .success(same)
                }
            }
            let samples = MetricNameRules.sampleNames(base: base, kind: Series.kind)
            for sample in samples {
                if let owner = state.sampleOwners[sample] {
                    return .failure(.sampleNameClash(metric: base, sample: sample, existingMetric: owner))
                }
            }
            let overflowFamily = self.overflowFamily
            let family = MetricFamily<Series>(
                descriptor: descriptor,
                options: options,
                maxSeries: maxSeries,
                logger: self.logger,
                overflowCounter: { overflowFamily.labels([base]) }
            )
            state.families[base] = family
            for sample in samples { state.sampleOwners[sample] = base }
            state.sortedFamilies = nil
            return .success(family)
        }
        return try result.get()
    }

    /// Removes a family and everything it exposes; returns whether it existed.
    @discardableResult
    public func unregister(name: String) -> Bool {
        let base = name.hasSuffix("_total") ? String(name.dropLast(6)) : name
        return self.state.withLock { state in
            guard let family = state.families.removeValue(forKey: base) else { return false }
            for sample in MetricNameRules.sampleNames(base: base, kind: family.anyDescriptor.kind) {
                state.sampleOwners.removeValue(forKey: sample)
            }
            state.sortedFamilies = nil
            return true
        }
    }

    /// Runs `hook` before every render, for values read from elsewhere on demand (a shared store, a pool).
    public func addCollectHook(_ hook: @escaping @Sendable () -> Void) {
        self.collectHooks.withLock { $0.append(hook) }
    }

    // MARK: - Rendering

    /// Renders every family in name order.
    public func render(format: ExpositionFormat) -> [UInt8] {
        for hook in self.collectHooks.withLock({ $0 }) { hook() }
        let families = self.sortedFamilies()
        if format == .protobuf {
            var writer = ProtobufWriter(reservingCapacity: self.state.withLock { $0.lastRenderSize } + 1024)
            for family in families {
                family.renderProtobuf(into: &writer)
            }
            return writer.bytes
        }
        var writer = ExpositionWriter(format: format, reservingCapacity: self.state.withLock { $0.lastRenderSize } + 1024)
        for family in families {
            family.render(into: &writer)
        }
        writer.finish()
        let size = writer.bytes.count
        self.state.withLock { $0.lastRenderSize = size }
        return writer.bytes
    }

    private func sortedFamilies() -> [any AnyMetricFamily] {
        self.state.withLock { state -> [any AnyMetricFamily] in
            if let sorted = state.sortedFamilies { return sorted }
            let sorted = state.families.sorted { $0.key < $1.key }.map(\.value)
            state.sortedFamilies = sorted
            return sorted
        }
    }

    /// Renders every family as a string (a text format).
    public func renderString(format: ExpositionFormat = .prometheusText) -> String {
        String(decoding: self.render(format: format), as: UTF8.self)
    }
}

/// What the registry needs from a family without knowing its series type.
protocol AnyMetricFamily: AnyObject, Sendable {
    var anyDescriptor: MetricDescriptor { get }
    func render(into writer: inout ExpositionWriter)
    func renderProtobuf(into writer: inout ProtobufWriter)
}

extension MetricFamily: AnyMetricFamily {
    var anyDescriptor: MetricDescriptor { self.descriptor }
}

struct RegistryState: ~Copyable {
    var families: [String: any AnyMetricFamily] = [:]
    /// Every sample name in use and the family that exposes it.
    var sampleOwners: [String: String] = [:]
    var sortedFamilies: [any AnyMetricFamily]?
    var lastRenderSize = 0
}
