/// One series of a family with its label values and their pre-rendered text.
/// Not generic, so the lookup path needs no generic metadata at run time.
final class FamilyEntry: Sendable {
    let values: [String]
    let hash: UInt64
    let labels: RenderedLabels
    let series: any AnyObject & Sendable

    init(values: [String], hash: UInt64, names: [String], series: any AnyObject & Sendable) {
        self.values = values
        self.hash = hash
        self.labels = RenderedLabels(names: names, values: values)
        self.series = series
    }
}

/// The mutable part of a family, only touched under its lock.
struct FamilyState: ~Copyable {
    var index = LabelIndex()
    var entries: [FamilyEntry] = []
    var overflow: FamilyEntry?
    var warnedLimitReached = false
    /// Rebuilt at the next render after series were added or removed.
    var plan: RenderPlan?

    mutating func insert(_ entry: FamilyEntry) {
        self.index.insert(hash: entry.hash, position: self.entries.count)
        self.entries.append(entry)
        self.plan = nil
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
        self.plan = nil
        return true
    }

    /// Entries sorted by label values, the overflow series last.
    func sortedEntries() -> [FamilyEntry] {
        var sorted = self.entries.sorted { $0.values.lexicographicallyPrecedes($1.values) }
        if let overflow = self.overflow { sorted.append(overflow) }
        return sorted
    }
}
