import DequeModule
import Synchronization
import TallyCore
import TallyMetrics

/// A fixed-capacity buffer for batched recording: the recording thread
/// appends, a background task flushes the batch on an interval and once more
/// on shutdown.
///
/// `append` never waits for I/O or for a flush: it holds a lock for O(1) work
/// (an append, and dropping the oldest element when full) and the flush swaps
/// the whole batch out in O(1) under the same lock before handing it over.
/// When full, the oldest element is dropped and counted
/// (`tally_buffer_dropped_total`). Memory is bounded by `capacity` elements
/// (twice that while a flush is being handed its batch). Thread-safe.
public final class BoundedBuffer<Element: Sendable>: Sendable {
    public let name: String
    public let capacity: Int
    public let flushInterval: Duration
    let metrics: BufferMetrics?
    let handler: @Sendable ([Element]) async -> Void
    private let state: Mutex<State>
    private let droppedCount = Atomic<Int64>(0)

    private struct State: ~Copyable {
        var elements: Deque<Element>
        var spare: Deque<Element>
    }

    /// - Parameters:
    ///   - name: the `buffer` label of its meta-metrics.
    ///   - capacity: elements kept at most (≥ 1).
    ///   - flushInterval: how often ``run()`` flushes.
    ///   - registry: where the meta-metrics go (nil: none).
    ///   - flush: receives each batch, oldest first; calls never overlap when only ``run()`` flushes.
    /// - Throws: ``BoundedBufferError`` for a capacity below 1, `MetricsRegistryError` when the meta-metrics conflict.
    public init(name: String, capacity: Int, flushInterval: Duration = .seconds(2), registry: MetricsRegistry? = nil,
                flush: @escaping @Sendable ([Element]) async -> Void) throws {
        guard capacity >= 1 else { throw BoundedBufferError.invalidCapacity(name: name, capacity: capacity) }
        self.name = name
        self.capacity = capacity
        self.flushInterval = flushInterval
        self.handler = flush
        self.metrics = try registry.map { try BufferMetrics(registry: $0, buffer: name) }
        self.state = Mutex(State(elements: Deque(minimumCapacity: capacity), spare: Deque(minimumCapacity: capacity)))
        self.metrics?.capacity.set(Double(capacity))
        self.metrics?.events.set(0)
    }

    /// Adds an element; when full, drops the oldest one (counted). Never waits for a flush.
    public func append(_ element: Element) {
        let (count, dropped) = state.withLock { state -> (Int, Bool) in
            var dropped = false
            if state.elements.count == capacity {
                state.elements.removeFirst()
                dropped = true
            }
            state.elements.append(element)
            return (state.elements.count, dropped)
        }
        metrics?.appended.increment()
        if dropped {
            droppedCount.wrappingAdd(1, ordering: .relaxed)
            metrics?.dropped.increment()
        }
        metrics?.events.set(Double(count))
    }

    /// Elements waiting now.
    public var count: Int { state.withLock { $0.elements.count } }

    /// `count / capacity`: a pressure for an adaptive sampler.
    public var fillFraction: Double { Double(count) / Double(capacity) }

    /// Elements dropped so far because the buffer was full.
    public var dropped: Int64 { droppedCount.load(ordering: .relaxed) }

    /// Hands everything waiting to the flush function (nothing when empty); returns how many.
    @discardableResult
    public func flush() async -> Int {
        let batch = state.withLock { state -> Deque<Element> in
            var batch = Deque<Element>()
            swap(&batch, &state.spare)
            swap(&batch, &state.elements)
            return batch
        }
        metrics?.events.set(0)
        guard !batch.isEmpty else { return 0 }
        let started = ContinuousClock.now
        await handler(Array(batch))
        let elapsed = ContinuousClock.now - started
        metrics?.flushDuration.observe(elapsed.secondsValue)
        // Give the storage back for the next swap, unless another flush already did.
        var empty = batch
        empty.removeAll(keepingCapacity: true)
        state.withLock { state in
            if state.spare.isEmpty { state.spare = empty }
        }
        return batch.count
    }

    /// Flushes every ``flushInterval`` until the task is cancelled (for example
    /// by a graceful shutdown), then flushes what is left and returns.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: flushInterval)
            } catch {
                break
            }
            await flush()
        }
        await flush()
    }
}

/// A bounded buffer that cannot be built; the message names the value.
public enum BoundedBufferError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidCapacity(name: String, capacity: Int)

    public var description: String {
        switch self {
        case .invalidCapacity(let name, let capacity): "bounded buffer \"\(name)\": capacity must be at least 1, got \(capacity)"
        }
    }
}
