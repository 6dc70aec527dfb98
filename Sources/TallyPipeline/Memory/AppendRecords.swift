import DequeModule

/// The embedded log's idempotency keys and dedupe ring: the same rules as the
/// Redis append script, on one process's clock (unix milliseconds, passed in).
///
/// Keys expire after the window and are bounded in number (the ones closest to
/// expiry go first, counted); event ids live in ``AppendPolicy/dedupeSlices``
/// whole slices plus the current one, each dropped whole when its ring
/// position is reused.
struct AppendRecords {
    let policy: AppendPolicy
    private var keys: [String: (fingerprint: String, acceptedCount: Int, expiresAt: Int64)] = [:]
    /// Keys in the order recorded, which is expiry order (one window for all).
    private var expiryOrder: Deque<(key: String, expiresAt: Int64)> = []
    private(set) var evicted = 0
    /// The slice each ring position holds, and its ids.
    private var slices: [(number: Int64, ids: Set<String>)?]

    init(policy: AppendPolicy) {
        self.policy = policy
        self.slices = Array(repeating: nil, count: AppendPolicy.dedupeSlices + 1)
    }

    /// The earlier outcome for `claim`'s key, if it is still within its window.
    func earlierOutcome(of claim: IdempotencyClaim, now: Int64) -> AppendOutcome? {
        guard let held = keys[claim.key], held.expiresAt > now else { return nil }
        return held.fingerprint == claim.fingerprint ? .replayed(acceptedCount: held.acceptedCount) : .conflict(acceptedCount: held.acceptedCount)
    }

    /// The positions of `request`'s records to leave out: duplicates of ids appended within the
    /// window or earlier in the batch.
    func duplicates(in request: AppendRequest, now: Int64) -> [Int] {
        let sliceMs = policy.dedupeSliceMilliseconds
        guard sliceMs > 0 else { return [] }
        let current = now / sliceMs
        let live = slices.compactMap { $0 }.filter { $0.number > current - Int64(slices.count) && $0.number <= current }
        var seen = Set<String>()
        var duplicates: [Int] = []
        for (position, id) in request.deduplicationIDs.enumerated() {
            guard let id else { continue }
            if seen.contains(id) || live.contains(where: { $0.ids.contains(id) }) {
                duplicates.append(position)
            } else {
                seen.insert(id)
            }
        }
        return duplicates
    }

    /// Records the batch's ids and key once it is appended.
    mutating func record(_ request: AppendRequest, now: Int64) {
        let sliceMs = policy.dedupeSliceMilliseconds
        if sliceMs > 0 {
            let current = now / sliceMs
            let position = Int(current % Int64(slices.count))
            if slices[position]?.number != current { slices[position] = (current, []) }
            for id in request.deduplicationIDs { if let id { slices[position]!.ids.insert(id) } }
            for event in request.acceptedUnstored { slices[position]!.ids.insert(event.id) }
        }
        if let claim = request.idempotency {
            let expiresAt = now + policy.idempotencyWindowMilliseconds
            keys[claim.key] = (claim.fingerprint, claim.acceptedCount, expiresAt)
            expiryOrder.append((claim.key, expiresAt))
            while keys.count > policy.maxIdempotencyKeys, let oldest = expiryOrder.popFirst() {
                if keys[oldest.key]?.expiresAt == oldest.expiresAt {
                    keys[oldest.key] = nil
                    evicted += 1
                }
            }
        }
        expire(now: now)
    }

    /// Forgets keys past their window.
    private mutating func expire(now: Int64) {
        while let oldest = expiryOrder.first, oldest.expiresAt <= now {
            expiryOrder.removeFirst()
            if keys[oldest.key]?.expiresAt == oldest.expiresAt { keys[oldest.key] = nil }
        }
    }

    func figures(now: Int64) -> AppendRecordFigures {
        let sliceMs = policy.dedupeSliceMilliseconds
        let current = sliceMs > 0 ? now / sliceMs : 0
        let ids = slices.compactMap { $0 }.filter { $0.number > current - Int64(slices.count) }.reduce(0) { $0 + $1.ids.count }
        return AppendRecordFigures(idempotencyKeys: keys.values.filter { $0.expiresAt > now }.count, idempotencyKeysEvicted: evicted, dedupeIDs: ids)
    }
}
