import Logging
import Synchronization

/// The label value that past-the-cap label sets are recorded under, in every family and in the
/// pipeline's capped tools and error codes (which become label values).
public let metricOverflowValue = "__overflow__"

/// All series of one metric, one per distinct set of label values, with a cap.
///
/// Looking up a label set is a hash lookup under a short lock; adding one is
/// O(1). Past `maxSeries` distinct label sets, new ones are recorded into one
/// overflow series whose label values are all `__overflow__`, nothing is
/// dropped, each diverted lookup is counted in
/// `tally_metrics_overflow_total{metric="…"}`, and a warning is logged once.
/// Hold on to the returned series to record without any lookup.
public final class MetricFamily<Series: MetricSeries>: Sendable {
    public static var overflowValue: String { metricOverflowValue }

    public let descriptor: MetricDescriptor
    /// The label names, in the order positional values are given; kept apart
    /// from ``descriptor`` so a lookup does not copy the whole descriptor.
    public let labelNames: [String]
    public let options: Series.Options
    public let maxSeries: Int
    let state: Mutex<FamilyState>
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
        self.labelNames = descriptor.labelNames
        self.options = options
        self.maxSeries = maxSeries
        self.logger = logger
        self.overflowCounter = overflowCounter
        self.state = Mutex(FamilyState())
    }

    /// The series for these label values, given in the order of ``labelNames``.
    /// A wrong number of values is a programming error: it is logged and
    /// recorded into the overflow series rather than crashing the process.
    public func labels(_ values: String...) -> Series {
        self.labels(values)
    }

    /// The series for these label values, given in the order of ``labelNames``.
    public func labels(_ values: [String]) -> Series {
        guard values.count == self.labelNames.count else {
            self.logger.error(
                "wrong number of label values; recording into the overflow series",
                metadata: ["metric": "\(self.descriptor.name)", "expected": "\(self.labelNames)", "got": "\(values)"]
            )
            return self.overflowSeries()
        }
        return self.series(forValues: values)
    }

    /// The series for these name/value pairs, in any order; a label that is
    /// not given takes the empty value. An unknown label name is logged and
    /// recorded into the overflow series. Finding an existing series allocates nothing.
    public func labels(_ pairs: [(String, String)]) -> Series {
        let names = self.labelNames
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
            }.map { unsafeDowncast($0, to: Series.self) }
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
                return (unsafeDowncast(state.entries[position].series, to: Series.self), false, false)
            }
            if state.entries.count < self.maxSeries {
                let series = Series(options: self.options)
                state.insert(FamilyEntry(values: values, hash: hash, names: self.labelNames, series: series))
                return (series, false, false)
            }
            let warn = !state.warnedLimitReached
            state.warnedLimitReached = true
            return (self.overflowEntry(&state), true, warn)
        }
        if diverted {
            self.noteOverflow(warnLimitReached: warn)
        }
        return series
    }

    private func overflowSeries() -> Series {
        // A family without labels has a single series and no overflow series that could be told apart from it.
        if self.labelNames.isEmpty { return self.series(forValues: []) }
        let series = self.state.withLock { state in self.overflowEntry(&state) }
        self.noteOverflow(warnLimitReached: false)
        return series
    }

    private func overflowEntry(_ state: inout FamilyState) -> Series {
        if let overflow = state.overflow { return unsafeDowncast(overflow.series, to: Series.self) }
        let values = [String](repeating: Self.overflowValue, count: self.labelNames.count)
        let series = Series(options: self.options)
        state.overflow = FamilyEntry(values: values, hash: 0, names: self.labelNames, series: series)
        state.plan = nil
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
    /// The text around each value was rendered when the series set last
    /// changed (``RenderPlan``), so a render only formats numbers.
    func render(into writer: inout ExpositionWriter) {
        let plan = self.currentPlan()
        guard !plan.series.isEmpty else { return }
        let descriptor = self.descriptor
        writer.writeMetadata(name: descriptor.name, kind: descriptor.kind, help: descriptor.help, unit: descriptor.unit)
        plan.withLines { lines in
            for row in plan.series.indices {
                plan.series[row]._withUnsafeGuaranteedRef { series in
                    unsafeDowncast(series, to: Series.self)._writeSamples(to: &writer, lines: lines.row(row))
                }
            }
        }
    }

    /// Renders the family as one length-delimited protobuf `MetricFamily`, series in the same order.
    func renderProtobuf(into writer: inout ProtobufWriter) {
        let plan = self.currentPlan()
        guard !plan.series.isEmpty else { return }
        let descriptor = self.descriptor
        let family = writer.beginDelimited()
        writer.string(ProtobufField.MetricFamily.name, descriptor.kind == .counter ? descriptor.name + "_total" : descriptor.name)
        if !descriptor.help.isEmpty { writer.string(ProtobufField.MetricFamily.help, descriptor.help) }
        writer.uint64(ProtobufField.MetricFamily.type, Series._protobufType.rawValue)
        let labels = plan.protobufLabels()
        for row in plan.series.indices {
            let metric = writer.beginMessage(ProtobufField.MetricFamily.metric)
            writer.raw(labels[row])
            plan.series[row]._withUnsafeGuaranteedRef { series in
                unsafeDowncast(series, to: Series.self)._writeProtobuf(to: &writer)
            }
            writer.endMessage(metric)
        }
        if let unit = descriptor.unit, !unit.isEmpty { writer.string(ProtobufField.MetricFamily.unit, unit) }
        writer.endMessage(family)
    }

    /// The render plan of the current series set, built when it changed.
    private func currentPlan() -> RenderPlan {
        self.state.withLock { state in
            if let plan = state.plan { return plan }
            let plan = RenderPlan(
                entries: state.sortedEntries(),
                name: self.descriptor.name,
                labelNames: self.labelNames,
                lines: Series._sampleLines(options: self.options)
            )
            state.plan = plan
            return plan
        }
    }
}
