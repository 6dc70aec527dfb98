extension RedisClient {
    /// `XINFO GROUPS key`: every consumer group with its pending count, last delivered id and lag.
    public func xinfoGroups(_ key: String) async throws -> [RedisStreamGroupInfo] {
        let reply = try await send(RedisCommand("XINFO", "GROUPS", .string(key)))
        guard let groups = reply.array else { throw reply.unexpected("XINFO GROUPS") }
        return try groups.map { group in
            let f = try StreamReplyDecoding.fieldMap(group, command: "XINFO GROUPS")
            guard let name = f["name"]?.string, let consumers = f["consumers"]?.int, let pending = f["pending"]?.int,
                  let last = f["last-delivered-id"]?.string
            else { throw reply.unexpected("XINFO GROUPS") }
            return RedisStreamGroupInfo(
                name: name, consumers: consumers, pending: pending, lastDeliveredID: last,
                entriesRead: f["entries-read"]?.int, lag: f["lag"]?.int
            )
        }
    }

    /// `XINFO STREAM key`.
    public func xinfoStream(_ key: String) async throws -> RedisStreamInfo {
        let reply = try await send(RedisCommand("XINFO", "STREAM", .string(key)))
        let f = try StreamReplyDecoding.fieldMap(reply, command: "XINFO STREAM")
        guard let length = f["length"]?.int, let groups = f["groups"]?.int, let last = f["last-generated-id"]?.string else {
            throw reply.unexpected("XINFO STREAM")
        }
        func entry(_ name: String) throws -> RedisStreamEntry? {
            guard let v = f[name], !v.isNull else { return nil }
            return try StreamReplyDecoding.entry(v, command: "XINFO STREAM")
        }
        return RedisStreamInfo(
            length: length, groups: groups, lastGeneratedID: last,
            maxDeletedEntryID: f["max-deleted-entry-id"]?.string, entriesAdded: f["entries-added"]?.int,
            firstEntry: try entry("first-entry"), lastEntry: try entry("last-entry")
        )
    }
}
