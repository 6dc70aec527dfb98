/// Evaluates `condition` every `interval` until it holds or `timeout` has passed;
/// returns whether it held. The one polling loop behind the test suites' waits.
public func poll(
    timeout: Duration,
    every interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let giveUpAt = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < giveUpAt else { return false }
        try await Task.sleep(for: interval)
    }
    return true
}
