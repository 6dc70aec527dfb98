import TallyMetrics

/// A label's declared values: anything else is recorded under the overflow
/// value `__overflow__`, so client input can never create a series.
public struct DeclaredLabelValues: Sendable, Hashable {
    public let values: [String]
    private let set: Set<String>

    public init(_ values: [String]) {
        var seen = Set<String>()
        self.values = values.filter { seen.insert($0).inserted }
        self.set = seen
    }

    /// `value` when declared, otherwise the overflow value.
    public func resolve(_ value: String) -> String {
        set.contains(value) ? value : KitLabels.overflow
    }

    /// The declared values followed by the overflow value.
    public var valuesWithOverflow: [String] { values + [KitLabels.overflow] }
}

/// Label conventions shared by the kit's types.
public enum KitLabels {
    /// The value an undeclared label value is recorded under (the core's overflow value).
    public static var overflow: String { MetricFamily<Counter>.overflowValue }
    /// The series cap of a family keyed by an app-chosen name (`pool`, `cache`, `queue`, …).
    public static let maxNamedInstances = 64
}
