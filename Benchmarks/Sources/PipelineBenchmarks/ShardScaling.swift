import Foundation
import TallyPipeline
import TallyRedis
import TallyTesting

/// `--shards`: the same events appended and applied through 1 shard and through 3 shards of one
/// local 3-primary Redis Cluster, back to back in each round, with `workers` workers per shard.
/// Prints events/s of each and their ratio per round (3 shards ÷ 1 shard) and its median.
func shardScaling(records: [EventRecord], rounds: Int) async throws {
    let cluster = try await LocalRedisCluster.start(replicas: 0)
    let client = RedisClusterClient(configuration: .init(seeds: cluster.seeds, maximumConnectionsPerNode: 8, maximumBlockingConnectionsPerNode: 16,
                                                         leaseTimeout: .seconds(10)))
    try await client.connect()
    var ratios: [Double] = []
    var best = (one: 0.0, three: 0.0)
    for round in 0..<rounds {
        let one = try await runSharded(client: client, shards: 1, prefix: "one\(round)", records: records)
        let three = try await runSharded(client: client, shards: 3, prefix: "three\(round)", records: records)
        best = (max(best.one, one), max(best.three, three))
        ratios.append(three / one)
    }
    print("events: \(records.count), workers per shard: \(workers), batch: 500, 3-primary local cluster, best of \(rounds)")
    print(String(format: "Tally, 1 shard  (append → applied): %9.0f events/s", best.one))
    print(String(format: "Tally, 3 shards (append → applied): %9.0f events/s", best.three))
    print("3 shards ÷ 1 shard per round: " + ratios.map { String(format: "%.2f", $0) }.joined(separator: ", ")
          + String(format: "; median %.2f", ratios.sorted()[ratios.count / 2]))
    await client.close()
    await cluster.stop()
}

/// Appends `records` in batches of 500 through a `shards`-shard log while each shard's workers
/// apply them; returns events/s from the first append to every shard drained.
func runSharded(client: RedisClusterClient, shards: Int, prefix: String, records: [EventRecord]) async throws -> Double {
    let backend = ShardedBackend.redis(client: client, layout: try ShardLayout(count: shards, prefix: prefix))
    let log = backend.log
    try await log.prepare()
    var configuration = WorkerConfiguration()
    configuration.batchSize = 500
    configuration.block = .milliseconds(100)
    let pool = WorkerPool(shards: backend.workerShards(), concurrency: workers,
                          configuration: configuration, consumerPrefix: "bench")
    let running = Task { await pool.run() }
    let start = ContinuousClock.now
    for i in stride(from: 0, to: records.count, by: appendBatch) {
        try await log.append(Array(records[i..<min(i + appendBatch, records.count)]))
    }
    while true {
        let figures = try await log.figures()
        if figures.length >= records.count && figures.pending == 0 && figures.lag == 0 { break }
        try await Task.sleep(for: .milliseconds(5))
    }
    let elapsed = ContinuousClock.now - start
    pool.stop()
    await running.value
    return Double(records.count) / seconds(elapsed)
}
