import Logging
import Synchronization

/// All series of one metric, one per distinct set of label values, with a cap.
///
/// Looking up a label set is a hash lookup under a short lock; adding one is
/// O(1). Past `maxSeries` distinct label sets, new ones are recorded into one
/// overflow series whose label values are all `__overflow__`, nothing is
/// dropped, each diverted lookup is counted in
/// `tally_metrics_overflow_total{metric="…"}`, and a warning is logged once.
/// Hold on to the returned series to record without any lookup.
public final class MetricFamily<Series: MetricSeries>: Sendable {
    public static var overflowValue: String { "__overflow__" }

    public let descriptor: MetricDescriptor
    public let options: Series.Options
    public let maxSeries: Int
    let state: Mutex<FamilyState<Series>>
    let overflowCounter: @Sendable () -> Counter?
    let logger: Logger
    /// Seeds the label hash (see ``LabelHash``).
    let hashSeed = UInt64.random(in: .min ... .max)

    init(
        descriptor: MetricDescriptor,
        options: Series.Options,
        maxSeries: Int,
        logger: Logger,
        overflowCounter: @escaping @Sendable () -> Counter?
    ) {
        self.descriptor = descriptor
        self.options = options
        self.maxSeries = maxSeries
        self.logger = logger
        self.overflowCounter = overflowCounter
        self.state = Mutex(FamilyState())
    }

    public var labelNames: [String] { self.descriptor.labelNames }

    /// The series for these label values, given in the order of ``labelNames``.
    /// A wrong number of values is a programming error: it is logged and
    /// recorded into the overflow series rather than crashing the process.
    public func labels(_ values: String...) -> Series {
        self.labels(values)
    }

    /// The series for these label values, given in the order of ``labelNames``.
    public func labels(_ values: [String]) -> Series {
        guard values.count == self.descriptor.labelNames.count else {
            self.logger.error(
                "wrong number of label values; recording into the overflow series",
                metadata: ["metric": "\(self.descriptor.name)", "expected": "\(self.descriptor.labelNames)", "got": "\(values)"]
            )
            return self.overflowSeries()
        }
        return self.series(forValues: values)
    }

    /// The series for these name/value pairs, in any order; a label that is
    /// not given takes the empty value. An unknown label name is logged and
    /// recorded into the overflow series. Finding an existing series allocates nothing.
    public func labels(_ pairs: [(String, String)]) -> Series {
        let names = self.descriptor.labelNames
        var hash: UInt64 = 0
        var seen: UInt64 = 0
        for (name, value) in pairs {
            guard let position = names.firstIndex(of: name) else {
                self.logger.error(
                    "unknown label; recording into the overflow series",
                    metadata: ["metric": "\(self.descriptor.name)", "label": "\(name)", "labels": "\(names)"]
                )
                return self.overflowSeries()
            }
            hash &+= LabelHash.of(value, position: position, seed: self.hashSeed)
            if position < 64 { seen |= 1 << UInt64(position) }
        }
        let complete = pairs.count == names.count && names.count <= 64 && seen.nonzeroBitCount == names.count
        if complete {
            let found = self.state.withLock { state in
                state.index.find(hash: hash) { position in
                    let values = state.entries[position].values
                    return pairs.allSatisfy { pair in values[names.firstIndex(of: pair.0)!] == pair.1 }
                }.map { state.entries[$0].series }
            }
            if let found { return found }
        }
        // A new series, missing labels or a repeated name: build the values in label order.
        var values = [String](repeating: "", count: names.count)
        for (name, value) in pairs {
            values[names.firstIndex(of: name)!] = value
        }
        return self.series(forValues: values)
    }

    /// Removes the series for these label values (in ``labelNames`` order); returns whether it existed.
    @discardableResult
    public func remove(_ values: [String]) -> Bool {
        let hash = LabelHash.of(values, seed: self.hashSeed)
        return self.state.withLock { state in state.remove(values, hash: hash) }
    }

    /// Removes a series by identity (used by the swift-metrics `destroy` calls).
    @discardableResult
    func remove(series: Series) -> Bool {
        self.state.withLock { state in
            guard let entry = state.entries.first(where: { $0.series === series }) else { return false }
            return state.remove(entry.values, hash: entry.hash)
        }
    }

    /// The number of series, overflow included.
    public var seriesCount: Int {
        self.state.withLock { $0.entries.count + ($0.overflow == nil ? 0 : 1) }
    }

    func series(forValues values: [String]) -> Series {
        let hash = LabelHash.of(values, seed: self.hashSeed)
        let (series, diverted, warn) = self.state.withLock { state -> (Series, Bool, Bool) in
            if let position = state.index.find(hash: hash, matches: { state.entries[$0].values == values }) {
                return (state.entries[position].series, false, false)
            }
            if state.entries.count < self.maxSeries {
                let entry = FamilyEntry(values: values, hash: hash, names: self.descriptor.labelNames, series: Series(options: self.options))
                state.insert(entry)
                return (entry.series, false, false)
            }
            let warn = !state.warnedLimitReached
            state.warnedLimitReached = true
            return (state.overflowEntry(names: self.descriptor.labelNames, options: self.options).series, true, warn)
        }
        if diverted {
            self.noteOverflow(warnLimitReached: warn)
        }
        return series
    }

    private func overflowSeries() -> Series {
        // A family without labels has a single series and no overflow series that could be told apart from it.
        if self.descriptor.labelNames.isEmpty { return self.series(forValues: []) }
        let series = self.state.withLock { state in
            state.overflowEntry(names: self.descriptor.labelNames, options: self.options).series
        }
        self.noteOverflow(warnLimitReached: false)
        return series
    }

    private func noteOverflow(warnLimitReached: Bool) {
        self.overflowCounter()?.increment()
        if warnLimitReached {
            self.logger.warning(
                "metric reached its series limit; new label sets are recorded under \(Self.overflowValue)",
                metadata: ["metric": "\(self.descriptor.name)", "limit": "\(self.maxSeries)"]
            )
        }
    }

    /// Renders metadata and every series, sorted by label values, overflow last.
    func render(into writer: inout ExpositionWriter) {
        let entries = self.state.withLock { $0.sortedEntries() }
        guard !entries.isEmpty else { return }
        writer.writeMetadata(name: self.descriptor.name, kind: self.descriptor.kind, help: self.descriptor.help, unit: self.descriptor.unit)
        for entry in entries {
            entry.series._writeSamples(to: &writer, name: self.descriptor.name, labels: entry.labels)
        }
    }
}

/// One series with its label values and their pre-rendered text.
final class FamilyEntry<Series: MetricSeries>: Sendable {
    let values: [String]
    let hash: UInt64
    let labels: RenderedLabels
    let series: Series

    init(values: [String], hash: UInt64, names: [String], series: Series) {
        self.values = values
        self.hash = hash
        self.labels = RenderedLabels(names: names, values: values)
        self.series = series
    }
}

/// The mutable part of a family, only touched under its lock.
struct FamilyState<Series: MetricSeries>: ~Copyable {
    var index = LabelIndex()
    var entries: [FamilyEntry<Series>] = []
    var overflow: FamilyEntry<Series>?
    var warnedLimitReached = false
    /// Entries sorted by label values, rebuilt only after series were added or removed.
    var sorted: [FamilyEntry<Series>]?

    mutating func insert(_ entry: FamilyEntry<Series>) {
        self.index.insert(hash: entry.hash, position: self.entries.count)
        self.entries.append(entry)
        self.sorted = nil
    }

    /// Swap-removes in O(1).
    mutating func remove(_ values: [String], hash: UInt64) -> Bool {
        guard let position = self.index.find(hash: hash, matches: { self.entries[$0].values == values }) else { return false }
        self.index.remove(hash: hash, position: position)
        let last = self.entries.count - 1
        if position != last {
            self.entries[position] = self.entries[last]
            self.index.move(hash: self.entries[position].hash, from: last, to: position)
        }
        self.entries.removeLast()
        self.sorted = nil
        return true
    }

    mutating func overflowEntry(names: [String], options: Series.Options) -> FamilyEntry<Series> {
        if let overflow = self.overflow { return overflow }
        let values = [String](repeating: MetricFamily<Series>.overflowValue, count: names.count)
        let entry = FamilyEntry(values: values, hash: 0, names: names, series: Series(options: options))
        self.overflow = entry
        self.sorted = nil
        return entry
    }

    mutating func sortedEntries() -> [FamilyEntry<Series>] {
        if let sorted = self.sorted { return sorted }
        var sorted = self.entries.sorted { $0.values.lexicographicallyPrecedes($1.values) }
        if let overflow = self.overflow { sorted.append(overflow) }
        self.sorted = sorted
        return sorted
    }
}
