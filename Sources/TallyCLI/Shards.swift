import ArgumentParser
import Logging
import TallyMetrics
import TallyPipeline
import TallyRedis
import TallyServer

/// `tally shards`: where each shard lives and how its log stands.
struct Shards: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show each shard's hash tag, slot, Redis node, lag, pending entries and dead letters.")

    @OptionGroup var redis: RedisOptions

    func validate() throws {
        guard self.redis.isSet else { throw ValidationError("--redis is required (or set TALLY_REDIS)") }
    }

    func run() async throws {
        var configuration = try await self.redis.serverConfiguration()
        configuration.workers = 0
        configuration.redisLeaseTimeout = .seconds(5)
        let node: PipelineNode
        do {
            node = try PipelineNode(configuration: configuration, registry: MetricsRegistry(), logger: Logger(label: "tally.shards"))
        } catch {
            throw fail("cannot start: \(error)")
        }
        do {
            // The same checks as dlq's (an evicting server only warns), the shard count included.
            try await node.checkServer(allowEviction: true)
            let statuses = try await node.shardStatuses()
            print("shard  tag                slot   node                   length      lag  pending  dead letters")
            for status in statuses {
                let figures = status.figures
                print([
                    pad(String(status.index), 5), pad(status.tag, 18), pad(String(status.slot), 6), pad(status.node ?? "?", 22),
                    pad(String(figures.length), 6, right: true), pad(String(figures.lag), 8, right: true),
                    pad(String(figures.pending), 8, right: true), pad(String(figures.deadLetters), 13, right: true),
                ].joined(separator: " "))
            }
            await node.close()
        } catch let refusal as RedisPreflight.Refusal {
            await node.close()
            throw fail("cannot use Redis at \(self.redis.urls.map { RedisConfiguration.redacted($0) }.joined(separator: ",")): \(refusal)")
        } catch {
            await node.close()
            throw fail("cannot read the shards: \(error)")
        }
    }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }
}
