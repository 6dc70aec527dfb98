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
    /// Deliveries after which a failing entry moves to the dead-letter stream.
    public var maxDeliveries = 3
    /// Pause after an error talking to the log, before trying again.
    public var errorBackoff: Duration = .milliseconds(200)
    /// Limits applied when decoding stored events.
    public var limits = EventLimits.default

    public init() {}

    public static let `default` = WorkerConfiguration()
}
