import TallyRedis

/// The ``BatchCommitter`` on Redis: one ``ApplyScript`` call per commit checks ownership
/// (the batch's fence, or `XPENDING` entry by entry), applies the delta, moves the dead letters to `{tally}:dlq` and `XACK`s the
/// entries, all-or-nothing, on Redis's clock. The one place the Redis state is written from
/// events; ``ApplyPayload`` is its argument and ``RedisKeys`` its key layout.
public struct RedisBatchCommitter: BatchCommitter {
    package let client: any RedisClient
    public let keys: RedisKeys
    public let configuration: StateConfiguration

    public init(client: any RedisClient, keys: RedisKeys = RedisKeys(), configuration: StateConfiguration = .default) {
        self.client = client
        self.keys = keys
        self.configuration = configuration
    }

    public func commit(_ commit: BatchCommit, consumer: String, now: Double?) async throws -> CommitOutcome {
        let payload = ApplyPayload(delta: commit.delta, acknowledged: commit.acknowledged, deadLetters: commit.deadLetters,
                                   fence: commit.fence, group: keys.group, consumer: consumer, now: now, keys: keys, configuration: configuration)
        let reply = try await ApplyScript.run(payload, on: client)
        guard let parts = reply.array, let status = parts.first?.int else {
            throw PipelineReplyError(step: .apply, command: "EVALSHA", reply: reply)
        }
        if status == 0 {
            return .notOwned((parts.count > 1 ? parts[1].array ?? [] : []).compactMap(\.string))
        }
        return .committed
    }
}
