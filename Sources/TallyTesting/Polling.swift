import Testing

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

/// ``poll(timeout:every:_:)`` for a test that needs the condition: records an issue at the
/// caller's line when it does not hold within `timeout`, and lets the test go on.
public func waitUntil(
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    if try await !poll(timeout: timeout, every: interval, condition) {
        Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
    }
}
