import Synchronization

/// Waits for a task's result until a deadline, without cancelling the task: what a
/// caller with a deadline needs when the work it started must finish anyway (a
/// connect whose connection the pool keeps).
enum DeadlineRace {
    enum Outcome<Success: Sendable>: Sendable {
        case finished(Result<Success, any Error>)
        case deadlinePassed
    }

    /// Lets exactly one of two racers resume the continuation.
    private final class Once: Sendable {
        private let taken = Atomic<Bool>(false)

        func claim() -> Bool { taken.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged }
    }

    static func value<Success: Sendable>(of task: Task<Success, any Error>, before deadline: ContinuousClock.Instant) async -> Outcome<Success> {
        let once = Once()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Outcome<Success>, Never>) in
            let timer = Task {
                // Cancelled means the task finished first: a timer woken by its cancellation must not
                // claim the race in the moment before the finished side does.
                do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
                if once.claim() { continuation.resume(returning: .deadlinePassed) }
            }
            Task {
                let result = await task.result
                timer.cancel()
                if once.claim() { continuation.resume(returning: .finished(result)) }
            }
        }
    }
}
