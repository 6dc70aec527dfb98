import ArgumentParser
import Logging
import TallyPipeline
import TallyMetrics
import TallyRedis
import TallyServer

struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, replay or purge the dead-letter stream.",
        subcommands: [List.self, Replay.self, Purge.self]
    )

    struct Connection: ParsableArguments {
        @OptionGroup var redis: RedisOptions

        @Option(help: "Only this shard (from 0); its dead-letter ids are then the shard's own. Every shard by default, ids read <shard>/<id> when there are several.")
        var shard: Int?

        func validate() throws {
            guard self.redis.isSet else { throw ValidationError("--redis is required (or set TALLY_REDIS)") }
            if let shard, !(0..<self.redis.shards).contains(shard) {
                throw ValidationError("--shard must be from 0 to \(self.redis.shards - 1), got \(shard)")
            }
        }

        func withLog<Result>(_ body: (any DeadLetterStore) async throws -> Result) async throws -> Result {
            var configuration = try await self.redis.serverConfiguration()
            configuration.workers = 0
            // An operator's one-shot command: it may wait for a connection longer than a serving node.
            configuration.redisLeaseTimeout = .seconds(5)
            let logger = Logger(label: "tally.dlq")
            let node: PipelineNode
            do {
                node = try PipelineNode(configuration: configuration, registry: MetricsRegistry(), logger: logger)
            } catch {
                throw fail("cannot start: \(error)")
            }
            do {
                // The same checks as serve and worker; an evicting server is only a warning here, so that
                // an operator can still inspect and save the dead letters.
                do {
                    try await node.checkServer(allowEviction: true)
                } catch let refusal as RedisPreflight.Refusal {
                    throw fail("cannot use Redis at \(self.redis.urls.map { RedisConfiguration.redacted($0) }.joined(separator: ",")): \(refusal)")
                }
                let store: any DeadLetterStore = if let shard = self.shard { node.log.shards[shard] } else { node.log }
                let result = try await body(store)
                await node.close()
                return result
            } catch {
                await node.close()
                throw error
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters with their error, time and delivery count.")
        @OptionGroup var connection: Connection
        @Option(help: "At most this many entries.") var count = 100

        func run() async throws {
            let letters = try await self.connection.withLog { try await $0.deadLetters(count: self.count) }
            for letter in letters {
                print("\(letter)")
            }
            print("\(letters.count) dead letter(s)")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead letters back on the main stream with a fresh delivery count.")
        @OptionGroup var connection: Connection
        @Flag(help: "Replay every dead letter.") var all = false
        @Argument(help: "Dead-letter entry ids to replay.") var ids: [String] = []

        func validate() throws {
            guard self.all != !self.ids.isEmpty else { throw ValidationError("give either --all or one or more ids") }
        }

        func run() async throws {
            let replayed = try await self.connection.withLog { try await $0.replayDeadLetters(ids: self.all ? nil : self.ids) }
            print("replayed \(replayed) dead letter(s)")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete every dead letter.")
        @OptionGroup var connection: Connection

        func run() async throws {
            let purged = try await self.connection.withLog { try await $0.purgeDeadLetters() }
            print("purged \(purged) dead letter(s)")
        }
    }
}
