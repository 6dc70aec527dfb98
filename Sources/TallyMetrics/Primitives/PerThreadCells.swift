import CTallyAtomics


/// Per-thread copies ("slots") of a fixed run of 64-bit cells in the ``CellArena``.
///
/// A recording thread owns one slot exclusively while it lives and adds to it
/// with a plain relaxed load and store (see `CTallyAtomics.h`); threads beyond
/// the exclusive slots share the last one with atomic read-modify-writes.
/// Readers sum the slots. Totals are exact under any number of threads.
/// Memory: 8 bytes per cell per slot (64 bytes per cell).
@usableFromInline
struct PerThreadCells: @unchecked Sendable {
    /// Slot 0 of the first cell; slot `s` is `CellArena.slotStride × s` bytes further.
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let cellCount: Int

    init(cellCount: Int) {
        self.cellCount = cellCount
        self.base = CellArena.shared.allocate(cellCount: cellCount)
    }

    /// Returns the cells to the arena; only from the owner's `deinit`.
    func deallocate() {
        CellArena.shared.free(self.base, cellCount: self.cellCount)
    }

    /// The calling thread's slot and the address of its copy of cell 0.
    @inlinable @inline(__always)
    var local: (slot: UInt32, cells: UnsafeMutableRawPointer) {
        let slot = c_tally_thread_slot()
        return (slot, self.base + Int(slot) &* CellArena.slotStride)
    }

    @inlinable @inline(__always)
    func addInteger(_ delta: Int64, cell: Int) {
        let (slot, cells) = self.local
        c_tally_slot_add_i64((cells + cell &* 8).assumingMemoryBound(to: Int64.self), slot, delta)
    }

    @inlinable @inline(__always)
    func addDouble(_ delta: Double, cell: Int) {
        let (slot, cells) = self.local
        c_tally_slot_add_f64((cells + cell &* 8).assumingMemoryBound(to: UInt64.self), slot, delta)
    }

    @inline(__always)
    private func address(slot: Int, cell: Int) -> UnsafeMutableRawPointer {
        self.base + slot * CellArena.slotStride + cell * 8
    }

    /// The sum of one integer cell over all slots.
    func integerSum(cell: Int) -> Int64 {
        var total: Int64 = 0
        for slot in 0..<CellArena.slotCount {
            total &+= c_tally_load_i64(self.address(slot: slot, cell: cell).assumingMemoryBound(to: Int64.self))
        }
        return total
    }

    /// The sum of one floating-point cell over all slots.
    func doubleSum(cell: Int) -> Double {
        var total = 0.0
        for slot in 0..<CellArena.slotCount {
            total += c_tally_load_f64(self.address(slot: slot, cell: cell).assumingMemoryBound(to: UInt64.self))
        }
        return total
    }

    /// Sets every slot of every cell to zero (swift-metrics `reset()`); an
    /// increment racing with it may survive it.
    func zeroAll() {
        for slot in 0..<CellArena.slotCount {
            for cell in 0..<self.cellCount {
                c_tally_store_i64(self.address(slot: slot, cell: cell).assumingMemoryBound(to: Int64.self), 0)
            }
        }
    }
}
