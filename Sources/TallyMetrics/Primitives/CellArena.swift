import CTallyAtomics
import Synchronization

/// Process-wide storage for the per-thread copies of every metric's cells.
///
/// Memory comes in chunks of 1,024 cells × 8 slots (64 KiB). Slot `s` of a
/// chunk is one contiguous 8 KiB area, so the copies that one thread writes
/// sit next to each other (no false sharing with other threads, dense in
/// cache), and a render that sums the slots of many series reads 8
/// sequential streams. A series takes a run of cells for its lifetime and
/// gives them back, zeroed, when it is deinitialised (never while anyone can
/// still record into it). Chunks are kept for reuse, so memory is bounded by
/// the peak number of live cells. Allocation takes a lock; recording never does.
@usableFromInline
final class CellArena: Sendable {
    static let shared = CellArena()

    @usableFromInline static var cellsPerChunk: Int { 1024 }
    /// Bytes between two slots' copies of one cell.
    @usableFromInline static var slotStride: Int { 8192 }
    @usableFromInline static var slotCount: Int { Int(C_TALLY_SLOT_COUNT) }

    private let state = Mutex(ArenaState())

    /// Returns the slot-0 address of `cellCount` consecutive zeroed cells (≤ 1,024).
    func allocate(cellCount: Int) -> UnsafeMutableRawPointer {
        precondition(cellCount > 0 && cellCount <= Self.cellsPerChunk, "a series needs 1…1024 cells")
        return self.state.withLock { state in
            if var free = state.freeRuns[cellCount], let run = free.popLast() {
                state.freeRuns[cellCount] = free
                return run.pointer
            }
            if state.current == nil || state.used + cellCount > Self.cellsPerChunk {
                let bytes = Self.slotStride * Self.slotCount
                let chunk = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
                chunk.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
                state.current = UnsafeSendableRaw(pointer: chunk)
                state.used = 0
                state.chunkCount += 1
            }
            let run = state.current!.pointer + state.used * 8
            state.used += cellCount
            return run
        }
    }

    /// Zeroes every slot of the run and keeps it for the next series of the same size.
    func free(_ run: UnsafeMutableRawPointer, cellCount: Int) {
        for slot in 0..<Self.slotCount {
            (run + slot * Self.slotStride).initializeMemory(as: UInt8.self, repeating: 0, count: cellCount * 8)
        }
        self.state.withLock { state in
            state.freeRuns[cellCount, default: []].append(UnsafeSendableRaw(pointer: run))
        }
    }

    /// Chunks allocated so far (each 64 KiB).
    var chunkCount: Int {
        self.state.withLock { $0.chunkCount }
    }
}

struct UnsafeSendableRaw: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}

struct ArenaState: ~Copyable {
    var current: UnsafeSendableRaw?
    var used = 0
    var chunkCount = 0
    var freeRuns: [Int: [UnsafeSendableRaw]] = [:]
}
