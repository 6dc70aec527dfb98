import Synchronization
import TallyKit
import TallyMetrics
import TallyTesting
import Testing

@Suite struct BoundedBufferTests {
    /// Collects flushed batches.
    final class Sink: Sendable {
        let batches = Mutex<[[Int]]>([])
        var all: [Int] { batches.withLock { $0.flatMap { $0 } } }
        var count: Int { batches.withLock { $0.count } }
        func take(_ batch: [Int]) { batches.withLock { $0.append(batch) } }
    }

    @Test func aFullBufferDropsTheOldestAndCountsIt() async throws {
        let registry = MetricsRegistry()
        let sink = Sink()
        let buffer = try BoundedBuffer<Int>(name: "b", capacity: 100, registry: registry) { sink.take($0) }
        for i in 0..<250 { buffer.append(i) }
        #expect(buffer.count == 100 && buffer.dropped == 150 && buffer.fillFraction == 1)
        let text = registry.renderString()
        #expect(text.contains(#"tally_buffer_dropped_total{buffer="b"} 150"#))
        #expect(text.contains(#"tally_buffer_appended_total{buffer="b"} 250"#))
        #expect(text.contains(#"tally_buffer_events{buffer="b"} 100"#))
        #expect(text.contains(#"tally_buffer_capacity_events{buffer="b"} 100"#))
        #expect(await buffer.flush() == 100)
        #expect(sink.all == Array(150..<250))
        #expect(buffer.count == 0)
        #expect(registry.renderString().contains(#"tally_buffer_flush_duration_seconds_count{buffer="b"} 1"#))
    }

    @Test func runFlushesOnTheIntervalAndOnceMoreWhenCancelled() async throws {
        let sink = Sink()
        let buffer = try BoundedBuffer<Int>(name: "b", capacity: 1_000, flushInterval: .milliseconds(20)) { sink.take($0) }
        let task = Task { await buffer.run() }
        buffer.append(1)
        try await waitUntil(timeout: .seconds(30), every: .milliseconds(5)) { sink.all == [1] }
        buffer.append(2)
        buffer.append(3)
        task.cancel()  // a graceful shutdown cancels the task: what is left is flushed before run returns
        await task.value
        #expect(sink.all == [1, 2, 3])
    }

    @Test func appendingNeverWaitsForASlowFlush() async throws {
        let gate = Mutex(false)
        let sink = Sink()
        let buffer = try BoundedBuffer<Int>(name: "b", capacity: 10) { batch in
            // A flush that takes as long as the test lets it.
            while !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(1)) }
            sink.take(batch)
        }
        for i in 0..<10 { buffer.append(i) }
        let flushing = Task { await buffer.flush() }
        try await waitUntil(timeout: .seconds(30), every: .milliseconds(5)) { buffer.count == 0 }  // the batch was swapped out; the flush is still running
        // The flush cannot finish before the gate opens below: appends that waited for it would never return.
        for i in 10..<10_010 { buffer.append(i) }
        #expect(buffer.count == 10 && buffer.dropped == 9_990)
        gate.withLock { $0 = true }
        _ = await flushing.value
        await buffer.flush()
        #expect(sink.all == Array(0..<10) + Array(10_000..<10_010))
    }
}
