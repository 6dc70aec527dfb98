import Synchronization

/// Lets at most `limit` callers through at once, the others waiting their turn in order. The test
/// servers start through one (``RedisServer``): the whole suite starts at once, and a hundred
/// redis-servers forking together on two cores delay each other past their readiness deadlines.
final class StartGate: Sendable {
    private let state: Mutex<(available: Int, waiting: [CheckedContinuation<Void, Never>])>

    init(limit: Int) {
        self.state = Mutex((limit, []))
    }

    /// Runs `body` once a place is free, and frees it after.
    func run<Result>(_ body: () async throws -> Result) async throws -> Result {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let enter = state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if enter { continuation.resume() }
        }
        defer {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if state.waiting.isEmpty {
                    state.available += 1
                    return nil
                }
                return state.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
