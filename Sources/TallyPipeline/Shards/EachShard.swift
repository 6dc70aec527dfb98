/// `body` on every shard at once; the results by shard index (the sharded log's and state's reads).
/// One shard runs inline, without a task.
func eachShard<Shard: Sendable, Result: Sendable>(_ shards: [Shard], _ body: @escaping @Sendable (Shard) async throws -> Result) async throws -> [Result] {
    if shards.count == 1 { return [try await body(shards[0])] }
    return try await withThrowingTaskGroup(of: (Int, Result).self) { group in
        for (index, shard) in shards.enumerated() { group.addTask { (index, try await body(shard)) } }
        var results = [Result?](repeating: nil, count: shards.count)
        for try await (index, result) in group { results[index] = result }
        return results.map { $0! }
    }
}
