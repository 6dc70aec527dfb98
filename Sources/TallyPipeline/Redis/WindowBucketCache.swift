import Synchronization

/// The window buckets a ``RedisStateStore`` read last, with the version each had: a bucket whose
/// version is unchanged is not read again. Bounded by the window (older buckets are dropped).
final class WindowBucketCache: Sendable {
    private let buckets = Mutex<[Int: (version: String, bucket: WindowBucketDelta)]>([:])

    /// Whether the bucket at `start` is held with this version (never for a bucket without one).
    func holds(_ start: Int, version: String?) -> Bool {
        guard let version else { return false }
        return buckets.withLock { $0[start]?.version == version }
    }

    /// Keeps the `fresh` buckets (those with a version), forgets every bucket not in `starts`, and
    /// merges the window: fresh buckets as read, the others as held.
    func merge(starts: [Int], fresh: [Int: (version: String?, bucket: WindowBucketDelta)]) -> WindowSnapshot {
        buckets.withLock { held in
            var snapshot = WindowSnapshot()
            var kept: [Int: (version: String, bucket: WindowBucketDelta)] = [:]
            for start in starts {
                if let read = fresh[start] {
                    snapshot.merge(read.bucket)
                    if let version = read.version { kept[start] = (version, read.bucket) }
                } else if let cached = held[start] {
                    snapshot.merge(cached.bucket)
                    kept[start] = cached
                }
            }
            held = kept
            return snapshot
        }
    }
}
