import TallyCore

/// How a worker reads, retries and dead-letters. Defaults follow the architecture.
public struct WorkerConfiguration: Sendable, Hashable {
    /// Entries per read (`XREADGROUP COUNT`).
    public var batchSize = 100
    /// How long one read waits for new entries (`BLOCK`); also bounds how long a graceful stop takes.
    public var block: Duration = .seconds(1)
    /// Pending entries idle this long belong to a dead or stalled consumer and are claimed.
    public var claimMinIdle: Duration = .seconds(30)
    /// How often a worker looks for idle entries to claim.
    public var claimInterval: Duration = .seconds(5)
    /// How often a worker trims the log below what the group has delivered and acknowledged
    /// (``EventLog/trim()``); nil never trims.
    public var trimInterval: Duration? = .seconds(60)
    /// How many times an entry may fail before it moves to the dead-letter stream (at least 1):
    /// an entry that does not decode, after this many deliveries (as the log counts them); a batch
    /// whose commit fails is split after this many failed commits, and an entry that still fails
    /// alone is dead-lettered after this many failed commits of its own.
    public var maxDeliveries = 3
    /// The first pause after an error (talking to the log, or a failed commit) before trying
    /// again; it doubles with each consecutive failure up to ``maxErrorBackoff``, with jitter
    /// (each pause is between half and all of its step).
    public var errorBackoff: Duration = .milliseconds(200)
    /// The longest pause between retries of a failing commit or read.
    public var maxErrorBackoff: Duration = .seconds(10)
    /// Limits applied when decoding stored events.
    public var limits = EventLimits.default

    public init() {}

    public static let `default` = WorkerConfiguration()

    /// The pause before retry number `failures` (1 for the first): `errorBackoff` doubled per
    /// failure, capped at `maxErrorBackoff`, then scaled by `jitter` in 0.5…1.
    package func backoff(afterFailures failures: Int, jitter: Double) -> Duration {
        let base = max(errorBackoff.secondsValue, 0)
        let cap = max(maxErrorBackoff.secondsValue, base)
        let step = min(cap, base * Double(1 << min(max(failures, 1) - 1, 30)))
        return .milliseconds(Int64((step * min(max(jitter, 0.5), 1) * 1000).rounded()))
    }
}
