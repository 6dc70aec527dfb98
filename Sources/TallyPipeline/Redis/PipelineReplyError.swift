import TallyRedis

/// A Redis reply a step of the pipeline could not use: a reply of a shape the step does not
/// expect, or an error reply inside one of its pipelined batches. It names the step and the
/// command, so a log line says which part of Tally failed. (The apply script's own refusals are
/// ``ApplyError``s.)
public struct PipelineReplyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The part of the pipeline that sent the command.
    public enum Step: String, Sendable, Hashable, CaseIterable {
        /// A commit's apply script (``RedisBatchCommitter``).
        case apply
        /// An ingest batch's append script with its idempotency and dedupe checks (``RedisEventLog``).
        case append
        /// The sizes of the log's retry-safety records (``RedisEventLog/appendRecordFigures()``).
        case appendRecordFigures = "append record figures"
        /// Redis's `TIME`, the clock the state and the log's ages go by.
        case serverTime = "server time"
        /// A read of the window's buckets (``RedisStateStore/window(now:)``).
        case windowRead = "window read"
        /// One step of the active-session scan (``RedisStateStore/scanActiveSessions(now:_:)``).
        case sessionScan = "session scan"
        /// Recording or checking the shard count at start-up (``RedisEventLog/recordShardCount(_:)``).
        case prepare
    }

    /// The step that got the reply.
    public var step: Step
    /// The command the reply answered (`EVALSHA`, `TIME`, `HMGET`…).
    public var command: String
    /// The reply, as RESP text.
    public var reply: String

    public init(step: Step, command: String, reply: RESPValue) {
        self.step = step
        self.command = command
        self.reply = reply.description
    }

    public var description: String {
        "the \(step.rawValue) step: Redis \(command) returned an unexpected reply: \(reply.prefix(200))"
    }
}
