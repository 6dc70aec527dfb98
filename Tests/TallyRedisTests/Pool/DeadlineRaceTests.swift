@testable import TallyRedis
import Testing

/// A task that finishes long before its deadline is reported finished, never timed out: the racer
/// that cancels the deadline's timer must not lose the race to the timer it has just woken.
@Test func aTaskThatFinishesBeforeItsDeadlineIsNeverReportedLate() async throws {
    var late = 0
    for _ in 0..<50_000 {
        let task = Task<Int, any Error> { 1 }
        if case .deadlinePassed = await DeadlineRace.value(of: task, before: .now + .seconds(60)) { late += 1 }
    }
    #expect(late == 0, "\(late) of 50,000 finished tasks were reported past a deadline 60 s away")
}

@Test func aTaskStillRunningAtItsDeadlineIsReportedLate() async throws {
    let task = Task<Int, any Error> {
        try await Task.sleep(for: .seconds(30))
        return 1
    }
    defer { task.cancel() }
    let started = ContinuousClock.now
    guard case .deadlinePassed = await DeadlineRace.value(of: task, before: .now + .milliseconds(100)) else {
        Issue.record("a task sleeping 30 s finished before a 100 ms deadline")
        return
    }
    #expect(ContinuousClock.now - started < .seconds(20))
}
