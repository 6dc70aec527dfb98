/// Why a metric could not be registered or defined. Every case names the
/// offending metric or value and says what to do instead.
public enum MetricsRegistryError: Error, Equatable, CustomStringConvertible {
    case invalidMetricName(String, reason: String)
    case invalidLabelName(metric: String, label: String, reason: String)
    case invalidBuckets([Double], reason: String)
    case invalidQuantiles([Double], reason: String)
    case invalidSeriesLimit(metric: String, limit: Int)
    /// The name exists with another definition; both are described.
    case conflictingDefinition(metric: String, existing: String, requested: String)
    /// The explicit `register…` API was called twice for one name.
    case alreadyRegistered(metric: String, existing: String)
    /// One of the new metric's sample names is already produced by another metric.
    case sampleNameClash(metric: String, sample: String, existingMetric: String)

    public var description: String {
        switch self {
        case .invalidMetricName(let name, let reason):
            return "invalid metric name '\(name)': \(reason)"
        case .invalidLabelName(let metric, let label, let reason):
            return "metric '\(metric)': invalid label name '\(label)': \(reason)"
        case .invalidBuckets(let bounds, let reason):
            return "invalid histogram buckets \(bounds): \(reason)"
        case .invalidQuantiles(let quantiles, let reason):
            return "invalid summary quantiles \(quantiles): \(reason)"
        case .invalidSeriesLimit(let metric, let limit):
            return "metric '\(metric)': series limit \(limit) must be at least 1"
        case .conflictingDefinition(let metric, let existing, let requested):
            return "metric '\(metric)' is already registered as \(existing); cannot register it as \(requested)"
        case .alreadyRegistered(let metric, let existing):
            return "metric '\(metric)' is already registered (\(existing)); keep the first handle or use the get-or-create API"
        case .sampleNameClash(let metric, let sample, let existingMetric):
            return "metric '\(metric)' would expose sample '\(sample)', which metric '\(existingMetric)' already exposes; choose another name"
        }
    }
}
