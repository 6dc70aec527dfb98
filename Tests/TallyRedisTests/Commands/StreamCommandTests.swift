import TallyRedis
import TallyTesting
import Testing

@Test(arguments: [RedisConfiguration.ProtocolPreference.resp3, .resp2])
func xaddTrimsAndXrangeReadsBack(protocol preference: RedisConfiguration.ProtocolPreference) async throws {
    try await withConnection(protocol: preference) { (_, c) async throws in
        var ids: [String] = []
        for i in 0..<10 {
            ids.append(try #require(try await c.xadd("s", fields: [("event", .string("{\"n\":\(i)}")), ("weight", 1)])))
        }
        #expect(try await c.xadd("s", id: "9999999999999-0", fields: [("event", "last")], trim: .maxLength(5, approximate: false)) == "9999999999999-0")
        #expect(try await c.xlen("s") == 5)
        #expect(try await c.xadd("absent", fields: [("a", "b")], noMakeStream: true) == nil)
        let entries = try await c.xrange("s", count: 2)
        #expect(entries.map(\.id) == Array(ids[6...7]))
        #expect(entries.first?[field: "event"] == "{\"n\":6}")
        #expect(entries.first?.fields?.map(\.name) == ["event", "weight"])
        #expect(try await c.xtrim("s", .minID(ids[8], approximate: false)) == 2)
        #expect(try await c.xrange("s").map(\.id) == [ids[8], ids[9], "9999999999999-0"])
        #expect(try await c.xdel("s", ids: [ids[8], "1-1"]) == 1)
        try await c.xadd("s", fields: [("x", "y")], trim: .minID("0-1"))
        #expect(try await c.xlen("s") == 3)
    }
}

@Test func xgroupCreateTreatsBusyGroupAsAnOutcome() async throws {
    try await withConnection { (_, c) async throws in
        #expect(try await c.xgroupCreate("s", group: "g", startID: "0") == .created)
        #expect(try await c.xgroupCreate("s", group: "g", startID: "0") == .alreadyExists)
        let error = await expectRedisError { _ = try await c.xgroupCreate("nostream", group: "g", makeStream: false) }
        #expect(error?.description.contains("XGROUP CREATE") == true)
    }
}

@Test(arguments: [RedisConfiguration.ProtocolPreference.resp3, .resp2])
func xreadgroupReadsNewAndPendingEntriesFromSeveralStreams(protocol preference: RedisConfiguration.ProtocolPreference) async throws {
    try await withConnection(protocol: preference) { (_, c) async throws in
        for key in ["a", "b"] { _ = try await c.xgroupCreate(key, group: "g", startID: "0") }
        let a1 = try #require(try await c.xadd("a", fields: [("event", "a1")]))
        let a2 = try #require(try await c.xadd("a", fields: [("event", "a2")]))
        let b1 = try #require(try await c.xadd("b", fields: [("event", "b1")]))
        let read = try await c.xreadgroup(group: "g", consumer: "c1", streams: [("a", ">"), ("b", ">")], count: 1)
        #expect(read.map(\.key) == ["a", "b"])
        #expect(read[0].entries.map(\.id) == [a1])
        #expect(read[1].entries.map { $0[field: "event"] } == ["b1"])
        // Pending entries of this consumer, re-read with id 0.
        let pending = try await c.xreadgroup(group: "g", consumer: "c1", streams: [("a", "0")])
        #expect(pending.first?.entries.map(\.id) == [a1])
        // NOACK: delivered but never pending.
        let noAck = try await c.xreadgroup(group: "g", consumer: "c2", streams: [("a", ">")], noAck: true)
        #expect(noAck.first?.entries.map(\.id) == [a2])
        #expect(try await c.xpending("a", group: "g").count == 1)
        // BLOCK that times out returns no streams.
        let start = ContinuousClock.now
        #expect(try await c.xreadgroup(group: "g", consumer: "c1", streams: [("a", ">")], block: .milliseconds(100)).isEmpty)
        #expect(ContinuousClock.now - start >= .milliseconds(90))
        #expect(try await c.xack("a", group: "g", ids: [a1, a2]) == 1)
        #expect(try await c.xack("b", group: "g", ids: [b1]) == 1)
        #expect(try await c.xpending("b", group: "g").count == 0)
    }
}

@Test(arguments: [RedisConfiguration.ProtocolPreference.resp3, .resp2])
func xpendingReportsSummaryAndDeliveryCounts(protocol preference: RedisConfiguration.ProtocolPreference) async throws {
    try await withConnection(protocol: preference) { (_, c) async throws in
        _ = try await c.xgroupCreate("s", group: "g", startID: "0")
        let id1 = try #require(try await c.xadd("s", fields: [("n", "1")]))
        let id2 = try #require(try await c.xadd("s", fields: [("n", "2")]))
        _ = try await c.xreadgroup(group: "g", consumer: "alice", streams: [("s", ">")], count: 1)
        _ = try await c.xreadgroup(group: "g", consumer: "bob", streams: [("s", ">")])
        _ = try await c.xreadgroup(group: "g", consumer: "alice", streams: [("s", "0")]) // second delivery of id1
        let summary = try await c.xpending("s", group: "g")
        #expect(summary == RedisPendingSummary(count: 2, smallestID: id1, greatestID: id2, consumers: ["alice": 1, "bob": 1]))
        let entries = try await c.xpending("s", group: "g", count: 10)
        #expect(entries.map(\.id) == [id1, id2])
        #expect(entries.map(\.consumer) == ["alice", "bob"])
        #expect(entries.map(\.deliveryCount) == [2, 1])
        #expect(try await c.xpending("s", group: "g", count: 10, consumer: "bob").map(\.id) == [id2])
        try await Task.sleep(for: .milliseconds(60))
        #expect(try await c.xpending("s", group: "g", count: 10, minIdle: .milliseconds(50)).count == 2)
        #expect(try await c.xpending("s", group: "g", count: 10, minIdle: .seconds(60)).isEmpty)
    }
}

@Test(arguments: [RedisConfiguration.ProtocolPreference.resp3, .resp2])
func xautoclaimClaimsIdleEntriesAndReportsDeletedIDs(protocol preference: RedisConfiguration.ProtocolPreference) async throws {
    try await withConnection(protocol: preference) { (_, c) async throws in
        _ = try await c.xgroupCreate("s", group: "g", startID: "0")
        var ids: [String] = []
        for i in 0..<3 { ids.append(try #require(try await c.xadd("s", fields: [("n", .integer(i))]))) }
        _ = try await c.xreadgroup(group: "g", consumer: "dead-worker", streams: [("s", ">")])
        #expect(try await c.xdel("s", ids: [ids[1]]) == 1)
        try await Task.sleep(for: .milliseconds(30))
        let claimed = try await c.xautoclaim("s", group: "g", consumer: "rescuer", minIdle: .milliseconds(20), count: 10)
        #expect(claimed.nextCursor == "0-0")
        #expect(claimed.entries.map(\.id) == [ids[0], ids[2]])
        #expect(claimed.entries.last?[field: "n"] == "2")
        #expect(claimed.deletedIDs == [ids[1]])
        // JUSTID returns ids only and does not count a delivery.
        try await Task.sleep(for: .milliseconds(30))
        let justIDs = try await c.xautoclaim("s", group: "g", consumer: "third", minIdle: .milliseconds(20), justID: true)
        #expect(justIDs.claimedIDs == [ids[0], ids[2]])
        #expect(justIDs.entries.isEmpty)
        #expect(try await c.xpending("s", group: "g", count: 10).map(\.deliveryCount) == [2, 2])
        // Entries deleted while pending come back as [id, nil] from XREADGROUP … 0.
        #expect(try await c.xdel("s", ids: [ids[0]]) == 1)
        let pending = try await c.xreadgroup(group: "g", consumer: "third", streams: [("s", "0")])
        #expect(pending.first?.entries.first == RedisStreamEntry(id: ids[0], fields: nil))
    }
}

@Test(arguments: [RedisConfiguration.ProtocolPreference.resp3, .resp2])
func xinfoReportsGroupsLagAndStream(protocol preference: RedisConfiguration.ProtocolPreference) async throws {
    try await withConnection(protocol: preference) { (_, c) async throws in
        _ = try await c.xgroupCreate("s", group: "g", startID: "0")
        var ids: [String] = []
        for i in 0..<4 { ids.append(try #require(try await c.xadd("s", fields: [("n", .integer(i))]))) }
        _ = try await c.xreadgroup(group: "g", consumer: "c", streams: [("s", ">")], count: 1)
        let groups = try await c.xinfoGroups("s")
        #expect(groups == [RedisStreamGroupInfo(name: "g", consumers: 1, pending: 1, lastDeliveredID: ids[0], entriesRead: 1, lag: 3)])
        // After XDEL of an entry the group has not read yet, Redis cannot compute the lag.
        #expect(try await c.xdel("s", ids: [ids[2]]) == 1)
        let afterDelete = try await c.xinfoGroups("s")
        #expect(afterDelete.first?.lag == nil)
        #expect(afterDelete.first?.pending == 1)
        let info = try await c.xinfoStream("s")
        #expect(info.length == 3)
        #expect(info.groups == 1)
        #expect(info.lastGeneratedID == ids[3])
        #expect(info.maxDeletedEntryID == ids[2])
        #expect(info.entriesAdded == 4)
        #expect(info.firstEntry?.id == ids[0])
        #expect(info.lastEntry?[field: "n"] == "3")
    }
}
