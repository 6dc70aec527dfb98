import CTallyAtomics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cache-line-padded copies ("stripes") of a fixed set of 64-bit cells.
///
/// Each thread adds into the stripe picked by its thread index, so two threads
/// recording into one series do not fight over one cache line; readers sum the
/// stripes. Every access is a relaxed atomic, so a stripe shared by two threads
/// stays exact. Memory: `stripeCount × stride` bytes, fixed at creation.
@usableFromInline
struct StripedCells: @unchecked Sendable {
    /// Number of stripes: twice the cores, a power of two, between 2 and 16.
    @usableFromInline
    static let stripeCount: Int = {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        var count = 2
        while count < min(16, max(2, cores * 2)) { count <<= 1 }
        return count
    }()

    @usableFromInline let base: UnsafeMutableRawPointer
    /// Bytes between two stripes: the cells rounded up to 128 (two cache lines,
    /// which also defeats the adjacent-line prefetcher).
    @usableFromInline let stride: Int
    @usableFromInline let cellCount: Int

    init(cellCount: Int) {
        precondition(cellCount > 0)
        self.cellCount = cellCount
        self.stride = (cellCount * 8 + 127) & ~127
        let bytes = self.stride * Self.stripeCount
        self.base = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 128)
        self.base.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    }

    func deallocate() {
        self.base.deallocate()
    }

    /// The calling thread's copy of cell 0.
    @inlinable @inline(__always)
    var localStripe: UnsafeMutableRawPointer {
        let stripe = Int(c_tally_thread_stripe()) & (Self.stripeCount - 1)
        return self.base + stripe &* self.stride
    }

    @inlinable @inline(__always)
    func addInteger(_ delta: Int64, cell: Int) {
        c_tally_add_i64((self.localStripe + cell &* 8).assumingMemoryBound(to: Int64.self), delta)
    }

    @inlinable @inline(__always)
    func addDouble(_ delta: Double, cell: Int) {
        c_tally_add_f64((self.localStripe + cell &* 8).assumingMemoryBound(to: UInt64.self), delta)
    }

    /// The sum of one integer cell over all stripes.
    func integerSum(cell: Int) -> Int64 {
        var total: Int64 = 0
        for stripe in 0..<Self.stripeCount {
            let address = (self.base + stripe * self.stride + cell * 8).assumingMemoryBound(to: Int64.self)
            total &+= c_tally_load_i64(address)
        }
        return total
    }

    /// The sum of one floating-point cell over all stripes.
    func doubleSum(cell: Int) -> Double {
        var total = 0.0
        for stripe in 0..<Self.stripeCount {
            let address = (self.base + stripe * self.stride + cell * 8).assumingMemoryBound(to: UInt64.self)
            total += c_tally_load_f64(address)
        }
        return total
    }

    /// Sets every stripe of every cell to zero (swift-metrics `reset()`).
    func zeroAll() {
        for stripe in 0..<Self.stripeCount {
            for cell in 0..<self.cellCount {
                let address = (self.base + stripe * self.stride + cell * 8).assumingMemoryBound(to: Int64.self)
                c_tally_store_i64(address, 0)
            }
        }
    }
}
