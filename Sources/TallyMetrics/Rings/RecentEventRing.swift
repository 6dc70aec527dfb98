import Synchronization

/// A fixed-capacity ring of the most recent values ("last 100 requests").
///
/// Appending is O(1) and drops the oldest value once full; `snapshot` copies
/// the values oldest first. Thread-safe (a short lock, no allocation after the
/// first lap); memory never exceeds `capacity` values.
public final class RecentEventRing<Element: Sendable>: Sendable {
    public let capacity: Int
    private let storage: Mutex<RingStorage<Element>>

    /// - Parameter capacity: the number of values kept; at least 1.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        self.storage = Mutex(RingStorage(capacity: max(1, capacity)))
    }

    public func append(_ element: Element) {
        self.storage.withLock { $0.append(element) }
    }

    /// The kept values, oldest first.
    public func snapshot() -> [Element] {
        self.storage.withLock { $0.ordered() }
    }

    /// Values appended since creation, including those since dropped.
    public var totalAppended: Int {
        self.storage.withLock { $0.totalAppended }
    }

    public var count: Int {
        self.storage.withLock { $0.elements.count }
    }
}

struct RingStorage<Element>: ~Copyable {
    let capacity: Int
    var elements: [Element] = []
    /// Where the next value goes once the ring is full.
    var next = 0
    var totalAppended = 0

    init(capacity: Int) {
        self.capacity = capacity
        self.elements.reserveCapacity(capacity)
    }

    mutating func append(_ element: Element) {
        self.totalAppended += 1
        if self.elements.count < self.capacity {
            self.elements.append(element)
        } else {
            self.elements[self.next] = element
            self.next = (self.next + 1) % self.capacity
        }
    }

    func ordered() -> [Element] {
        guard self.elements.count == self.capacity, self.next > 0 else { return self.elements }
        return Array(self.elements[self.next...] + self.elements[..<self.next])
    }
}
