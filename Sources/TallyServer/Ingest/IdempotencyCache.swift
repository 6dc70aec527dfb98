import Foundation
import Synchronization

/// Remembers accepted `Idempotency-Key`s for a window, so a retried batch is
/// counted once. Bounded: past `capacity` keys the oldest are forgotten first.
public final class IdempotencyCache: Sendable {
    public let window: Duration
    public let capacity: Int
    private let entries = Mutex<IdempotencyEntries>(IdempotencyEntries())

    public init(window: Duration, capacity: Int = 100_000) {
        self.window = window
        self.capacity = max(1, capacity)
    }

    /// The count accepted under `key` within the window, if any.
    public func acceptedCount(for key: String, now: Double = Date().timeIntervalSince1970) -> Int? {
        self.entries.withLock { entries in
            entries.expire(before: now - self.window.seconds)
            return entries.accepted[key]?.count
        }
    }

    public func remember(_ key: String, accepted count: Int, now: Double = Date().timeIntervalSince1970) {
        self.entries.withLock { entries in
            entries.expire(before: now - self.window.seconds)
            if entries.accepted[key] == nil {
                entries.order.append((key, now))
            }
            entries.accepted[key] = (count, now)
            while entries.accepted.count > self.capacity, let oldest = entries.order.first {
                entries.order.removeFirst()
                entries.accepted.removeValue(forKey: oldest.key)
            }
        }
    }
}

struct IdempotencyEntries: ~Copyable {
    var accepted: [String: (count: Int, at: Double)] = [:]
    /// Keys in the order first remembered.
    var order: [(key: String, at: Double)] = []

    mutating func expire(before cutoff: Double) {
        var dropped = 0
        for entry in self.order {
            guard entry.at < cutoff else { break }
            self.accepted.removeValue(forKey: entry.key)
            dropped += 1
        }
        if dropped > 0 { self.order.removeFirst(dropped) }
    }
}

extension Duration {
    /// The duration in seconds, as a double.
    public var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
