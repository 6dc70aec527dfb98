/// The naming rules every registered metric and label passes, so that what
/// Tally exposes is valid for Prometheus and OpenMetrics and lint-clean for
/// `promtool check metrics`.
enum MetricNameRules {
    static let reservedSuffixes = ["_bucket", "_sum", "_count", "_created"]
    static let reservedLabels: Set<String> = ["le", "quantile"]

    /// Last name segments that are not base units, with the name to use instead.
    static let nonBaseUnits: [String: String] = {
        var table: [String: String] = [:]
        for unit in ["ms", "msec", "millis", "milliseconds", "us", "usec", "micros", "microseconds",
                     "ns", "nsec", "nanos", "nanoseconds", "minutes", "hours", "days", "mins", "hrs"] {
            table[unit] = "_seconds (record durations in seconds)"
        }
        for unit in ["kb", "kib", "mb", "mib", "gb", "gib", "kilobytes", "megabytes", "gigabytes", "bits"] {
            table[unit] = "_bytes (record sizes in bytes)"
        }
        table["percent"] = "_ratio (record a fraction between 0 and 1)"
        table["percentage"] = "_ratio (record a fraction between 0 and 1)"
        return table
    }()

    /// Validates a metric name and returns the base name families are exposed under
    /// (a counter's `_total` is stripped; it is added back on its sample).
    static func baseName(for name: String, kind: MetricKind, unit: String?) throws(MetricsRegistryError) -> String {
        guard !name.isEmpty else {
            throw .invalidMetricName(name, reason: "the name is empty")
        }
        guard self.isValidMetricName(name) else {
            throw .invalidMetricName(name, reason: "use only letters, digits, '_' and ':', not starting with a digit")
        }
        guard !name.hasPrefix("__") else {
            throw .invalidMetricName(name, reason: "names starting with '__' are reserved for Prometheus")
        }
        var base = name
        if name.hasSuffix("_total") {
            guard kind == .counter else {
                throw .invalidMetricName(name, reason: "only counters end with '_total'; a \(kind) needs another name")
            }
            base = String(name.dropLast("_total".count))
            guard !base.isEmpty else {
                throw .invalidMetricName(name, reason: "the name has nothing before '_total'")
            }
        }
        for suffix in self.reservedSuffixes where base.hasSuffix(suffix) {
            throw .invalidMetricName(name, reason: "the suffix '\(suffix)' is reserved for histogram and summary samples")
        }
        if let lastSegment = base.split(separator: "_").last.map({ $0.lowercased() }),
           let advice = self.nonBaseUnits[lastSegment]
        {
            throw .invalidMetricName(name, reason: "'\(lastSegment)' is not a base unit; end the name with \(advice)")
        }
        if let unit, !unit.isEmpty {
            guard unit.utf8.allSatisfy({ self.isNameByte($0, first: false) && $0 != UInt8(ascii: ":") }) else {
                throw .invalidMetricName(name, reason: "unit '\(unit)' may contain only letters, digits and '_'")
            }
            if let advice = self.nonBaseUnits[unit.lowercased()] {
                throw .invalidMetricName(name, reason: "unit '\(unit)' is not a base unit; use \(advice)")
            }
            guard base.hasSuffix("_" + unit) else {
                throw .invalidMetricName(name, reason: "a metric with unit '\(unit)' must end with '_\(unit)'")
            }
        }
        return base
    }

    static func validateLabelNames(_ labels: [String], metric: String) throws(MetricsRegistryError) {
        var seen = Set<String>()
        for label in labels {
            guard !label.isEmpty, self.isValidLabelName(label) else {
                throw .invalidLabelName(metric: metric, label: label, reason: "use only letters, digits and '_', not starting with a digit")
            }
            guard !label.hasPrefix("__") else {
                throw .invalidLabelName(metric: metric, label: label, reason: "names starting with '__' are reserved for Prometheus")
            }
            guard !self.reservedLabels.contains(label) else {
                throw .invalidLabelName(metric: metric, label: label, reason: "'\(label)' is reserved for histogram buckets and summary quantiles")
            }
            guard seen.insert(label).inserted else {
                throw .invalidLabelName(metric: metric, label: label, reason: "the label is listed twice")
            }
        }
    }

    /// The sample names a family exposes, for clash detection.
    static func sampleNames(base: String, kind: MetricKind) -> [String] {
        switch kind {
        case .counter: return [base, base + "_total", base + "_created"]
        case .gauge: return [base]
        case .histogram: return [base, base + "_bucket", base + "_count", base + "_sum", base + "_created"]
        case .summary: return [base, base + "_count", base + "_sum", base + "_created"]
        }
    }

    static func isValidMetricName(_ name: String) -> Bool {
        var first = true
        for byte in name.utf8 {
            guard self.isNameByte(byte, first: first) else { return false }
            first = false
        }
        return true
    }

    static func isValidLabelName(_ name: String) -> Bool {
        var first = true
        for byte in name.utf8 {
            guard byte != UInt8(ascii: ":"), self.isNameByte(byte, first: first) else { return false }
            first = false
        }
        return true
    }

    private static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"), UInt8(ascii: ":"):
            return true
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return !first
        default:
            return false
        }
    }
}
