import Synchronization

/// Ids for events that arrive without one: a random 64-bit prefix drawn once
/// per process, then a counter (`3f9c0a1e5b7d2c48-1a`).
///
/// Unique across processes and restarts with overwhelming probability, and
/// free of system calls: Foundation's `UUID()` on Linux reads `/dev/urandom`
/// for every id, which showed up as the ingest path's largest kernel cost.
final class EventIDGenerator: Sendable {
    static let shared = EventIDGenerator()

    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    init() {
        var random = SystemRandomNumberGenerator()
        let value = String(random.next() as UInt64, radix: 16)
        self.prefix = String(repeating: "0", count: 16 - value.count) + value
    }

    func next() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return prefix + "-" + String(n, radix: 16)
    }
}
