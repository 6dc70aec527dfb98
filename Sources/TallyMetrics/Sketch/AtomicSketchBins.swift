import CTallyAtomics

/// The live, concurrently recorded form of a ``QuantileSketch``.
///
/// Bins are plain atomic counters in pages of 128, allocated the first time a
/// value lands in a page's range and published with a compare-and-swap, so
/// recording is lock-free and, once a magnitude range has been seen,
/// allocation-free. Indexable magnitudes are 2^-64…2^64 (smaller ones count as
/// zero, larger ones clamp to the top bin), so memory is bounded: at most 65
/// pages of 1 KiB per sign, typically one to three.
@usableFromInline
final class AtomicSketchBins: @unchecked Sendable {
    @usableFromInline static let binsPerPage = 128
    @usableFromInline static let indexOffset = 4096
    @usableFromInline static let pageCount = (2 * indexOffset) / binsPerPage + 1

    /// Page tables for positive and negative values, `pageCount` slots each.
    @usableFromInline let positivePages: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    @usableFromInline let negativePages: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Cell 0: zero count, cell 1: sum.
    @usableFromInline let totals: PerThreadCells

    init() {
        self.positivePages = .allocate(capacity: Self.pageCount)
        self.positivePages.initialize(repeating: nil, count: Self.pageCount)
        self.negativePages = .allocate(capacity: Self.pageCount)
        self.negativePages.initialize(repeating: nil, count: Self.pageCount)
        self.totals = PerThreadCells(cellCount: 2)
    }

    deinit {
        for table in [self.positivePages, self.negativePages] {
            for page in 0..<Self.pageCount {
                table[page]?.deallocate()
            }
            table.deallocate()
        }
        self.totals.deallocate()
    }

    @inlinable @inline(__always)
    func record(_ value: Double) {
        let magnitude = abs(value)
        guard magnitude >= QuantileSketch.minIndexableValue else {
            if value.isNaN { return }
            self.totals.addInteger(1, cell: 0)
            return
        }
        let slot = QuantileSketch.clampedIndex(magnitude) &+ Self.indexOffset
        let table = value > 0 ? self.positivePages : self.negativePages
        let pageSlot = table + (slot >> 7)
        let page = c_tally_load_pointer(pageSlot) ?? self.installPage(pageSlot)
        c_tally_add_i64((page + (slot & 127) &* 8).assumingMemoryBound(to: Int64.self), 1)
        self.totals.addDouble(value, cell: 1)
    }

    /// Allocates a zeroed page and publishes it, or returns the one another thread published first.
    @usableFromInline
    func installPage(_ slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> UnsafeMutableRawPointer {
        let bytes = Self.binsPerPage * 8
        let page = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        page.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        let winner = c_tally_publish_pointer(slot, page)!
        if winner != page {
            page.deallocate()
        }
        return winner
    }

    /// Copies the bins into a sketch bounded to `maxBins`.
    func snapshot(maxBins: Int) -> QuantileSketch {
        var sketch = QuantileSketch(maxBins: maxBins)
        for (table, negative) in [(self.positivePages, false), (self.negativePages, true)] {
            for pageIndex in 0..<Self.pageCount {
                guard let page = c_tally_load_pointer(table + pageIndex) else { continue }
                for bin in 0..<Self.binsPerPage {
                    let count = c_tally_load_i64((page + bin * 8).assumingMemoryBound(to: Int64.self))
                    if count > 0 {
                        let index = pageIndex * Self.binsPerPage + bin - Self.indexOffset
                        sketch.addBin(index: index, count: Double(count), negative: negative)
                    }
                }
            }
        }
        sketch.addTotals(zeroCount: Double(self.totals.integerSum(cell: 0)), sum: self.totals.doubleSum(cell: 1))
        return sketch
    }

    func reset() {
        for table in [self.positivePages, self.negativePages] {
            for pageIndex in 0..<Self.pageCount {
                guard let page = c_tally_load_pointer(table + pageIndex) else { continue }
                for bin in 0..<Self.binsPerPage {
                    c_tally_store_i64((page + bin * 8).assumingMemoryBound(to: Int64.self), 0)
                }
            }
        }
        self.totals.zeroAll()
    }
}
