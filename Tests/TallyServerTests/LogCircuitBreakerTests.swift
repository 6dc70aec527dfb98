import Synchronization
import TallyTesting
import Testing
@testable import TallyServer

/// The ingest breaker on its own: when it opens, how it bounds waiting appends, and that one
/// successful probe closes it.
@Suite struct LogCircuitBreakerTests {
    final class Reachability: Sendable {
        let up = Atomic<Bool>(false)
        let probes = Atomic<Int>(0)
    }

    @Test func itOpensAfterConsecutiveFailuresAndAProbeClosesIt() async throws {
        let log = Reachability()
        let changes = Mutex<[Bool]>([])
        let breaker = LogCircuitBreaker(
            configuration: .init(failureThreshold: 3, probeInterval: .milliseconds(20)),
            probe: {
                log.probes.add(1, ordering: .relaxed)
                if !log.up.load(ordering: .relaxed) { throw CancellationError() }
            },
            onChange: { open in changes.withLock { $0.append(open) } }
        )
        // A success between failures resets the count.
        for succeeded in [false, false, true, false, false] {
            #expect(breaker.admit() == .admitted)
            breaker.finish(succeeded: succeeded, reason: "down")
        }
        #expect(!breaker.isOpen)
        #expect(breaker.admit() == .admitted)
        breaker.finish(succeeded: false, reason: "connection refused")
        #expect(breaker.isOpen)
        #expect(breaker.admit() == .open(reason: "connection refused"))
        // Turned-away requests start probes (one at a time); while the log is down they fail.
        try await Task.sleep(for: .milliseconds(50))
        _ = breaker.admit()
        #expect(try await poll(timeout: .seconds(10)) { log.probes.load(ordering: .relaxed) >= 1 })
        #expect(breaker.isOpen)
        log.up.store(true, ordering: .relaxed)
        let closed = try await poll(timeout: .seconds(10)) {
            if case .admitted = breaker.admit() {
                breaker.finish(succeeded: true)
                return true
            }
            return false
        }
        #expect(closed)
        #expect(changes.withLock { $0 } == [true, false])
        #expect(breaker.waiting == 0)
    }

    @Test func appendsPastTheBoundAreTurnedAwayAtOnce() {
        let breaker = LogCircuitBreaker(configuration: .init(maxWaiting: 4), probe: {})
        for _ in 0..<4 { #expect(breaker.admit() == .admitted) }
        #expect(breaker.admit() == .saturated)
        #expect(breaker.waiting == 4)
        breaker.finish(succeeded: true)
        #expect(breaker.admit() == .admitted)
        for _ in 0..<4 { breaker.finish(succeeded: true) }
        #expect(breaker.waiting == 0)
    }
}
