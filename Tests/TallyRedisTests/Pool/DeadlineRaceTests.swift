@testable import TallyRedis
import Testing

/// A task that finishes long before its deadline is reported finished, never timed out: the racer
/// that cancels the deadline's timer must not lose the race to the timer it has just woken.
@Test func aTaskThatFinishesBeforeItsDeadlineIsNeverReportedLate() async throws {
    var late = 0
    for _ in 0..<20_000 {
        let task = Task<Int, any Error> { 1 }
        if case .deadlinePassed = await DeadlineRace.value(of: task, before: .now + .seconds(60)) { late += 1 }
    }
    #expect(late == 0, "\(late) of 20,000 finished tasks were reported past a deadline 60 s away")
}

@Test func aTaskStillRunningAtItsDeadlineIsReportedLate() async throws {
    // The task runs for an hour: the deadline (100 ms) passes first however busy the machine is.
    let task = Task<Int, any Error> {
        try await Task.sleep(for: .seconds(3600))
        return 1
    }
    defer { task.cancel() }
    guard case .deadlinePassed = await DeadlineRace.value(of: task, before: .now + .milliseconds(100)) else {
        Issue.record("a task sleeping an hour finished before a 100 ms deadline")
        return
    }
}
