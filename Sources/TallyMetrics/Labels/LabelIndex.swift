/// An open-addressing hash table from a label set's hash to its position in
/// a family's entry list, so a lookup allocates nothing: the caller hashes
/// the label values in place and confirms a candidate by comparing them.
///
/// Linear probing over a power-of-two table kept at most half full; removals
/// leave tombstones, cleared by a rebuild when they pile up. Not thread-safe:
/// the family's lock guards it.
struct LabelIndex {
    private static let empty: Int32 = -1
    private static let tombstone: Int32 = -2

    private var positions: [Int32]
    private var hashes: [UInt64]
    private var live = 0
    private var tombstones = 0

    init() {
        self.positions = [Int32](repeating: Self.empty, count: 16)
        self.hashes = [UInt64](repeating: 0, count: 16)
    }

    /// The position of the entry with this hash for which `matches` holds.
    func find(hash: UInt64, matches: (Int) -> Bool) -> Int? {
        let mask = self.positions.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let position = self.positions[slot]
            if position == Self.empty { return nil }
            if position >= 0, self.hashes[slot] == hash, matches(Int(position)) { return Int(position) }
            slot = (slot + 1) & mask
        }
    }

    mutating func insert(hash: UInt64, position: Int) {
        if (self.live + self.tombstones + 1) * 2 > self.positions.count {
            // Grow when live entries alone fill a quarter; otherwise only clear tombstones.
            let grow = (self.live + 1) * 4 > self.positions.count
            self.rebuild(capacity: grow ? self.positions.count * 2 : self.positions.count)
        }
        let mask = self.positions.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while self.positions[slot] >= 0 {
            slot = (slot + 1) & mask
        }
        if self.positions[slot] == Self.tombstone { self.tombstones -= 1 }
        self.positions[slot] = Int32(position)
        self.hashes[slot] = hash
        self.live += 1
    }

    mutating func remove(hash: UInt64, position: Int) {
        guard let slot = self.slot(hash: hash, position: position) else { return }
        self.positions[slot] = Self.tombstone
        self.live -= 1
        self.tombstones += 1
    }

    /// Records that the entry at `from` now lives at `to` (after a swap-remove).
    mutating func move(hash: UInt64, from: Int, to: Int) {
        guard let slot = self.slot(hash: hash, position: from) else { return }
        self.positions[slot] = Int32(to)
    }

    private func slot(hash: UInt64, position: Int) -> Int? {
        let mask = self.positions.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = self.positions[slot]
            if stored == Self.empty { return nil }
            if stored == Int32(position), self.hashes[slot] == hash { return slot }
            slot = (slot + 1) & mask
        }
    }

    private mutating func rebuild(capacity: Int) {
        let oldPositions = self.positions
        let oldHashes = self.hashes
        self.positions = [Int32](repeating: Self.empty, count: capacity)
        self.hashes = [UInt64](repeating: 0, count: capacity)
        self.live = 0
        self.tombstones = 0
        for (slot, position) in oldPositions.enumerated() where position >= 0 {
            self.insert(hash: oldHashes[slot], position: Int(position))
        }
    }
}

/// Hashes label sets so that a value is tied to its label's position but the
/// order in which (name, value) pairs arrive does not matter: the hash of a
/// set is the wrapping sum of its values' hashes. Seeded per family, so
/// chosen label values cannot collide on purpose.
enum LabelHash {
    static func of(_ value: String, position: Int, seed: UInt64) -> UInt64 {
        var hash = seed ^ (UInt64(truncatingIfNeeded: position) &* 0x9E37_79B9_7F4A_7C15)
        for byte in value.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        hash = (hash ^ (hash >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        return hash ^ (hash >> 33)
    }

    static func of(_ values: [String], seed: UInt64) -> UInt64 {
        var total: UInt64 = 0
        for (position, value) in values.enumerated() {
            total &+= self.of(value, position: position, seed: seed)
        }
        return total
    }
}
