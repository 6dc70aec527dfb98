/// The public registration API: `register` and `registerFamily` throw on any
/// second registration of a name; `family(…)` is get-or-create for callers that
/// legitimately ask again (the swift-metrics factory), and still throws when
/// the definitions differ.
extension MetricsRegistry {
    /// Registers a metric without labels and returns its only series.
    public func register<Series: MetricSeries>(
        _ type: Series.Type,
        name: String,
        help: String,
        unit: String? = nil,
        options: Series.Options
    ) throws(MetricsRegistryError) -> Series {
        try self.family(type, name: name, help: help, unit: unit, labelNames: [], options: options,
                        seriesDefinition: Self.definition(of: options), maxSeries: 1, mode: .unique).series(forValues: [])
    }

    /// Registers a labelled metric; at most `maxSeries` label sets get their own series.
    public func registerFamily<Series: MetricSeries>(
        _ type: Series.Type,
        name: String,
        help: String,
        labelNames: [String],
        unit: String? = nil,
        options: Series.Options,
        maxSeries: Int = MetricsRegistry.defaultMaxSeries
    ) throws(MetricsRegistryError) -> MetricFamily<Series> {
        try self.family(type, name: name, help: help, unit: unit, labelNames: labelNames, options: options,
                        seriesDefinition: Self.definition(of: options), maxSeries: maxSeries, mode: .unique)
    }

    /// Returns the family of that name, creating it if needed; throws if it exists with another definition.
    public func family<Series: MetricSeries>(
        _ type: Series.Type,
        name: String,
        help: String,
        labelNames: [String],
        unit: String? = nil,
        options: Series.Options,
        maxSeries: Int = MetricsRegistry.defaultMaxSeries
    ) throws(MetricsRegistryError) -> MetricFamily<Series> {
        try self.family(type, name: name, help: help, unit: unit, labelNames: labelNames, options: options,
                        seriesDefinition: Self.definition(of: options), maxSeries: maxSeries, mode: .getOrCreate)
    }

    private static func definition<Options>(of options: Options) -> String {
        switch options {
        case is NoOptions: return ""
        case let buckets as HistogramBuckets: return "buckets: \(buckets)"
        case let summary as SummaryOptions:
            return "quantiles: \(summary.quantiles.map(formatExpositionDouble)), max bins: \(summary.maxBins)"
        default: return "\(options)"
        }
    }
}

extension MetricsRegistry {
    public func register<Series: MetricSeries>(
        _ type: Series.Type, name: String, help: String, unit: String? = nil
    ) throws(MetricsRegistryError) -> Series where Series.Options == NoOptions {
        try self.register(type, name: name, help: help, unit: unit, options: NoOptions())
    }

    public func registerFamily<Series: MetricSeries>(
        _ type: Series.Type, name: String, help: String, labelNames: [String], unit: String? = nil,
        maxSeries: Int = MetricsRegistry.defaultMaxSeries
    ) throws(MetricsRegistryError) -> MetricFamily<Series> where Series.Options == NoOptions {
        try self.registerFamily(type, name: name, help: help, labelNames: labelNames, unit: unit, options: NoOptions(), maxSeries: maxSeries)
    }
}
