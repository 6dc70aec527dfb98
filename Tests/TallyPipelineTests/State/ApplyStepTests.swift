import Foundation
import NIOCore
@testable import TallyPipeline
import TallyRedis
import TallyTesting
import Testing

/// The apply step never half-happens: a failure at any point that can fail leaves every key (Redis:
/// `DUMP` of every key and its expiry; memory: the whole log and store) exactly as it was, and the
/// batch pending, so that it is retried; once the cause is gone the same batch commits.
@Suite struct ApplyStepTests {
    /// One key's bytes (`DUMP`) and absolute expiry (`PEXPIRETIME`).
    struct KeyState: Equatable {
        var dump: [UInt8]
        var expiresAt: Int
    }

    /// Every key of the server.
    static func redisState(_ pool: RedisConnectionPool) async throws -> [String: KeyState] {
        let keys = try await pool.send(RedisCommand("KEYS", "*")).array?.compactMap(\.string) ?? []
        var state: [String: KeyState] = [:]
        for key in keys {
            let replies = try await pool.send(batch: [RedisCommand("DUMP", .string(key)), RedisCommand("PEXPIRETIME", .string(key))])
            guard case .bulkString(let bytes) = replies[0] else { continue }
            state[key] = KeyState(dump: Array(bytes.readableBytesView), expiresAt: replies[1].int ?? -3)
        }
        return state
    }

    /// The whole state of a backend: every Redis key, or the memory log and store as text.
    static func everything(_ log: any EventLog, _ harness: Harness) async throws -> String {
        if let pool = harness.pool {
            let state = try await redisState(pool)
            return state.keys.sorted().map { "\($0) \(state[$0]!.expiresAt) \(state[$0]!.dump)" }.joined(separator: "\n")
        }
        return try await #require(log as? MemoryEventLog).dump()
    }

    /// A batch that touches every key the apply step writes: a window bucket, tools, codes, every
    /// session set, a dead letter and acknowledgements. Returns the entries read by consumer `a`.
    static func readBatch(_ log: any EventLog, at now: Double, tag: String) async throws -> (entries: [LogEntry], commit: BatchCommit) {
        let events: [TelemetryEvent] = [
            .sessionStart(id: "\(tag)1", session: "s-\(tag)", at: now - 20),
            .completion(id: "\(tag)2", session: "s-\(tag)", at: now - 10, latencyMilliseconds: 120, accepted: true),
            .completion(id: "\(tag)3", session: "s-\(tag)", at: now - 9, latencyMilliseconds: 0, accepted: false),
            .toolCall(id: "\(tag)4", session: "s-\(tag)", at: now - 8, tool: "grep", success: true),
            .toolCall(id: "\(tag)5", session: "s-\(tag)", at: now - 7, tool: "edit", success: false),
            .clientError(id: "\(tag)6", session: "s-\(tag)", at: now - 6, code: "timeout"),
            .sessionStart(id: "\(tag)7", session: "t-\(tag)", at: now - 5),
            .sessionEnd(id: "\(tag)8", session: "t-\(tag)", at: now - 4),
            // A session seen at one time only: its one time is both its first and its last seen.
            .sessionStart(id: "\(tag)9", session: "u-\(tag)", at: now - 3),
        ]
        try await log.append(entries: events.map { EventRecord(event: $0).fields } + [[(name: "junk", value: tag)]])
        let entries = try await log.read(consumer: "a", from: .new, count: 100, block: nil)
        let good = entries.filter { $0.fields?.first?.name == "event" }
        let records = try good.map { try EventRecord(entryFields: $0.fields ?? []) }
        let poison = entries.filter { $0.fields?.first?.name == "junk" }.map { DeadLetterRequest(id: $0.id, error: "no event", deliveries: 1) }
        return (entries, BatchCommit(acknowledged: good.map(\.id), delta: DeltaCalculator.delta(for: records, bucketSeconds: 10), deadLetters: poison))
    }

    /// The keys the apply script reads or writes for `readBatch`'s batch at `now`.
    static func touchedKeys(now: Double) -> [String] {
        ApplyPayload.fixedKeys(RedisKeys()) + [RedisKeys().bucket(DeltaCalculator.bucketStart(of: now - 10, bucketSeconds: 10))]
    }

    @Test func aKeyOfTheWrongTypeAnywhereRefusesTheBatchAndChangesNothing() async throws {
        try await Backend.redis.with { log, store, harness in
            let pool = try #require(harness.pool)
            let now = unixNow()
            // State to protect: one batch applied, so that every key exists and holds data.
            let first = try await Self.readBatch(log, at: now, tag: "a")
            #expect(try await log.committer.commit(first.commit, consumer: "a", now: now) == .committed)
            let (entries, commit) = try await Self.readBatch(log, at: now, tag: "b")
            for key in Self.touchedKeys(now: now) {
                // The key's own bytes, to put back afterwards.
                let saved = try await pool.send(batch: [RedisCommand("DUMP", .string(key)), RedisCommand("PEXPIRETIME", .string(key))])
                _ = try await pool.send(batch: [RedisCommand("DEL", .string(key)), RedisCommand("SET", .string(key), "not what Tally keeps here")])
                let before = try await Self.redisState(pool)
                do {
                    _ = try await log.committer.commit(commit, consumer: "a", now: now)
                    Issue.record("a commit with \(key) of the wrong type went through")
                } catch let error as ApplyError {
                    #expect(error.kind == .state, "\(key): \(error)")
                    #expect(error.message.contains(key), "\(key): \(error)")
                }
                #expect(try await Self.redisState(pool) == before, "\(key): the refused commit changed something")
                _ = try await pool.send(RedisCommand("DEL", .string(key)))
                if case .bulkString(let bytes) = saved[0] {
                    let expiry = max(saved[1].int ?? 0, 0)
                    _ = try await pool.send(RedisCommand("RESTORE", .string(key), .integer(expiry), .bytes(bytes), "ABSTTL"))
                }
                // Still pending for `a`, with the delivery count it had: the batch will be retried.
                #expect(try await log.deliveryCounts(of: entries.map(\.id)) == Dictionary(uniqueKeysWithValues: entries.map { ($0.id, 1) }), "\(key)")
            }
            // Repaired: the same batch commits, once.
            #expect(try await log.committer.commit(commit, consumer: "a", now: now) == .committed)
            let window = try await store.window(now: now)
            #expect(window.completions == 4 && window.accepted == 2)
            #expect(try await store.toolCallTotals() == ["grep": OutcomeCounts(success: 2), "edit": OutcomeCounts(failure: 2)])
            #expect(try await store.errorCodeTotals() == ["timeout": 2])
            #expect(try await store.activeSessions(now: now).map(\.id) == ["s-a", "s-b", "u-a", "u-b"])
            #expect(try await log.figures().pending == 0)
            #expect(try await log.deadLetters(count: 10).count == 2)
        }
    }

    /// Deltas no stored event produces, each with a number the apply step must refuse before it writes.
    static func refusedDeltas(now: Double) -> [(String, StateDelta)] {
        let bucket = DeltaCalculator.bucketStart(of: now - 10, bucketSeconds: 10)
        func completions(_ value: Double) -> StateDelta {
            var delta = StateDelta()
            var window = WindowBucketDelta()
            window.completions = value
            delta.buckets[bucket] = window
            delta.eventsByType[.completion] = 1
            return delta
        }
        var bin = StateDelta()
        var binWindow = WindowBucketDelta()
        binWindow.latency.addBin(index: 400, count: 1e300)
        bin.buckets[bucket] = binWindow
        var accepted = StateDelta()
        var acceptedWindow = WindowBucketDelta()
        acceptedWindow.accepted = -1
        accepted.buckets[bucket] = acceptedWindow
        var far = StateDelta()
        var farWindow = WindowBucketDelta()
        farWindow.completions = 1
        far.buckets[9_000_000_000_000] = farWindow
        var session = StateDelta()
        session.sessions["s"] = SessionDelta(firstSeen: now, lastSeen: 1e300)
        var calls = StateDelta()
        calls.sessions["s"] = SessionDelta(firstSeen: now, lastSeen: now, toolCalls: .infinity)
        var tools = StateDelta()
        tools.toolCalls["grep"] = OutcomeCounts(success: 1, failure: 2e15)
        var codes = StateDelta()
        codes.errorCodes["E"] = -0.5
        var ended = StateDelta()
        ended.sessions["s"] = SessionDelta(firstSeen: now, lastSeen: now, endedAt: .nan)
        return [
            ("infinite completions", completions(.infinity)), ("NaN completions", completions(.nan)), ("completions past 1e15", completions(1e300)),
            ("a bin count of 1e300", bin), ("negative accepted", accepted), ("a bucket whose expiry is past 1e12", far),
            ("a session last seen at 1e300", session), ("infinite session tool calls", calls), ("2e15 tool failures", tools),
            ("a negative error count", codes), ("a NaN session end", ended),
        ]
    }

    @Test(arguments: Backend.allCases)
    func numbersOutOfBoundsRefuseTheBatchAndChangeNothing(backend: Backend) async throws {
        try await backend.with { log, store, harness in
            let now = unixNow()
            let first = try await Self.readBatch(log, at: now, tag: "a")
            #expect(try await log.committer.commit(first.commit, consumer: "a", now: now) == .committed)
            let (entries, commit) = try await Self.readBatch(log, at: now, tag: "b")
            let before = try await Self.everything(log, harness)
            for (name, delta) in Self.refusedDeltas(now: now) {
                var bad = commit
                bad.delta = delta
                do {
                    _ = try await log.committer.commit(bad, consumer: "a", now: now)
                    Issue.record("a commit with \(name) went through")
                } catch let error as ApplyError {
                    #expect(error.kind == .input, "\(name): \(error)")
                }
                #expect(try await Self.everything(log, harness) == before, "\(name): the refused commit changed something")
                // The store's own apply refuses it the same way.
                await #expect(throws: ApplyError.self, "\(name)") { try await store.apply(delta, now: now) }
                #expect(try await Self.everything(log, harness) == before, "\(name): the refused apply changed something")
            }
            #expect(try await log.deliveryCounts(of: entries.map(\.id)).count == entries.count)
            #expect(try await log.committer.commit(commit, consumer: "a", now: now) == .committed)
            #expect(try await store.window(now: now).completions == 4)
        }
    }

    /// Stored values the batch adds to that are not finite numbers: the state is at fault (systemic).
    @Test func storedValuesThatAreNotFiniteNumbersRefuseTheBatchAndChangeNothing() async throws {
        try await Backend.redis.with { log, _, harness in
            let pool = try #require(harness.pool)
            let now = unixNow()
            let keys = RedisKeys()
            let bucket = keys.bucket(DeltaCalculator.bucketStart(of: now - 10, bucketSeconds: 10))
            let (entries, commit) = try await Self.readBatch(log, at: now, tag: "b")
            let corruptions: [(key: String, field: String, value: String)] = [
                (keys.toolSuccesses, "grep", "inf"), (keys.toolFailures, "edit", "nan"), (keys.codeTotals, "timeout", "twelve"),
                (bucket, "n", "1e309"), (bucket, "sum", "-inf"), (keys.sessionToolCalls, "s-b", "NaN"),
                (bucket, RedisStateStore.BucketField.version, "1.5"), (bucket, RedisStateStore.BucketField.version, "latest"),
            ]
            for corruption in corruptions {
                _ = try await pool.send(RedisCommand("HSET", .string(corruption.key), .string(corruption.field), .string(corruption.value)))
                let before = try await Self.redisState(pool)
                do {
                    _ = try await log.committer.commit(commit, consumer: "a", now: now)
                    Issue.record("a commit onto \(corruption) went through")
                } catch let error as ApplyError {
                    #expect(error.kind == .state && error.message.contains(corruption.field), "\(corruption): \(error)")
                }
                #expect(try await Self.redisState(pool) == before, "\(corruption): the refused commit changed something")
                _ = try await pool.send(RedisCommand("HDEL", .string(corruption.key), .string(corruption.field)))
            }
            #expect(try await log.deliveryCounts(of: entries.map(\.id)).count == entries.count)
            #expect(try await log.committer.commit(commit, consumer: "a", now: now) == .committed)
        }
    }

    /// A payload that is not the script's own shape is refused before anything is written.
    @Test func malformedPayloadsAreRefusedBeforeAnyWrite() async throws {
        try await Backend.redis.with { log, _, harness in
            let pool = try #require(harness.pool)
            let now = unixNow()
            let first = try await Self.readBatch(log, at: now, tag: "a")
            #expect(try await log.committer.commit(first.commit, consumer: "a", now: now) == .committed)
            let (_, commit) = try await Self.readBatch(log, at: now, tag: "b")
            let payload = ApplyPayload(delta: commit.delta, acknowledged: commit.acknowledged, deadLetters: commit.deadLetters,
                                       group: RedisKeys().group, consumer: "a", now: now, keys: RedisKeys(), configuration: .default)
            let id = commit.acknowledged[0]
            #expect(payload.json.contains(#""dead":[["#) && payload.json.contains(#""ending":["#) && payload.json.contains(#""calls":["#))
            // ARGV after the JSON: the acknowledged ids, then (score, id) pairs of first and last seen,
            // a session seen at one time only (and not ending) sent once for both.
            let acks = commit.acknowledged.count
            let sessions = commit.delta.sessions.count
            let lasts = commit.delta.sessions.values.filter { $0.endedAt == nil }.count
            let shared = commit.delta.sessions.values.filter { $0.endedAt == nil && $0.firstSeen == $0.lastSeen }.count
            #expect(shared > 0 && shared < lasts, "the batch has sessions seen once and sessions seen at several times")
            #expect(payload.arguments.count == 1 + acks + 2 * (sessions + lasts - shared))
            #expect(payload.arguments[1] == .string(id))
            let before = try await Self.redisState(pool)
            func run(json: String = payload.json, replacing index: Int? = nil, with value: String = "") async throws -> RESPValue {
                var arguments = payload.arguments
                arguments[0] = .string(json)
                if let index { arguments[index] = .string(value) }
                return try await pool.evalScript(ApplyScript.script, keys: payload.keys, arguments: arguments)
            }
            // An id that is not a pending entry of this consumer, however malformed, is reported lost.
            for wrong in ["\(id)x", "99999999999999999999999-0", "0-1"] {
                let reply = try await run(replacing: 1, with: wrong)
                #expect(reply.array?.first?.int == 0 && reply.array?.last?.array?.compactMap(\.string) == [wrong], "\(reply)")
                #expect(try await Self.redisState(pool) == before, "\(wrong): the refused payload changed something")
            }
            let bad: [String] = [
                "not json", "[1,2]",
                payload.json.replacingOccurrences(of: #""bucketSeconds":10"#, with: #""bucketSeconds":0"#),
                payload.json.replacingOccurrences(of: #""wholeBuckets":30"#, with: #""wholeBuckets":"30""#),
                payload.json.replacingOccurrences(of: #""start":"#, with: #""start":-"#),
                payload.json.replacingOccurrences(of: #""key":13"#, with: #""key":3"#),
                payload.json.replacingOccurrences(of: #""key":13"#, with: #""key":13.5"#),
                payload.json.replacingOccurrences(of: #""bins":["#, with: #""bins":["b1","#),
                payload.json.replacingOccurrences(of: #""codes":[["#, with: #""codes":[[null,1],["#),
                payload.json.replacingOccurrences(of: #""group":"tally-workers""#, with: #""group":"""#),
                payload.json.replacingOccurrences(of: #""dead":[["#, with: #""dead":[["1-2-3","e",1],["#),
                payload.json.replacingOccurrences(of: #""lo":""#, with: #""lo":"x"#),
                // Counts that do not match the values that follow the JSON.
                payload.json.replacingOccurrences(of: #""acks":\#(acks)"#, with: #""acks":\#(acks - 1)"#),
                payload.json.replacingOccurrences(of: #""firsts":\#(sessions)"#, with: #""firsts":\#(sessions + 1)"#),
                payload.json.replacingOccurrences(of: #""lasts":\#(lasts)"#, with: #""lasts":-1"#),
                payload.json.replacingOccurrences(of: #""shared":\#(shared)"#, with: #""shared":\#(shared - 1)"#),
                payload.json.replacingOccurrences(of: #""shared":\#(shared)"#, with: #""shared":\#(sessions + 1)"#),
                // Sessions that end: text where a time belongs, times out of range, a wrong kind anywhere.
                payload.json.replacingOccurrences(of: #""ending":["#, with: #""ending":["x","1",2,"#),
                payload.json.replacingOccurrences(of: #""ending":["#, with: #""ending":["x",1,-0.5,"#),
                payload.json.replacingOccurrences(of: #""ending":["#, with: #""ending":["x",1,1e300,"#),
                payload.json.replacingOccurrences(of: #""ending":["#, with: #""ending":["x",1e12,2,"#),
                payload.json.replacingOccurrences(of: #""ending":["#, with: #""ending":[{},1,2,"#),
                payload.json.replacingOccurrences(of: #""ending":["#, with: #""ending":["x",1,"#),
                // Tool calls of sessions.
                payload.json.replacingOccurrences(of: #""calls":["#, with: #""calls":["x",null,"#),
                payload.json.replacingOccurrences(of: #""calls":["#, with: #""calls":["x",-1,"#),
                payload.json.replacingOccurrences(of: #""calls":["#, with: #""calls":[true,1,"#),
                payload.json.replacingOccurrences(of: #""calls":["#, with: #""calls":["x","#),
            ]
            #expect(Set(bad).count == bad.count, "every corruption must change the payload")
            // Session times as ZADD takes them: anything but a plain decimal below 10¹² (a first seen time,
            // then a last seen time: the last pair is one).
            let badTimes = ["0x10", "-1", "1e5", " 1", "1 ", "", ".5", "1.2.3", "nan", "inf", "1000000000000", "1,5",
                            String(repeating: "1", count: 401), "1." + String(repeating: "1", count: 400)]
            var refusals: [(what: String, run: () async throws -> RESPValue)] = bad.map { json in (String(json.prefix(200)), { try await run(json: json) }) }
            for (n, time) in badTimes.enumerated() {
                let index = n % 2 == 0 ? 1 + acks : payload.arguments.count - 2
                refusals.append(("time '\(time.prefix(40))' at \(index)", { try await run(replacing: index, with: time) }))
            }
            for refusal in refusals {
                do {
                    _ = try await refusal.run()
                    Issue.record("accepted \(refusal.what)")
                } catch let error as RedisError {
                    #expect(error.serverErrorCode == "TALLYINPUT", "\(refusal.what): \(error)")
                }
                #expect(try await Self.redisState(pool) == before, "\(refusal.what): the refused payload changed something")
            }
            #expect(try await log.committer.commit(commit, consumer: "a", now: now) == .committed)
        }
    }

    /// Session times reach `ZADD` as text and read back exactly, the extremes of the range included
    /// (below 10⁻⁴ Swift's shortest form has an exponent, which the step would refuse).
    @Test func sessionTimesReachRedisExactly() async throws {
        try await Backend.redis.with { log, _, harness in
            let pool = try #require(harness.pool)
            func score(_ key: String, _ member: String) async throws -> Double? {
                let reply = try await pool.send(RedisCommand("ZSCORE", .string(key), .string(member)))
                if case .double(let value) = reply { return value }
                return reply.string.flatMap(Double.init)
            }
            let times: [Double] = [0, Double.leastNonzeroMagnitude, 1e-5, 0.1, 1_733_112_345, 1_733_112_345.123456789, 999_999_999_999.9999, 1e12.nextDown]
            for (n, time) in times.enumerated() {
                let text = ApplyPayload.scoreText(time)
                #expect(Double(text) == time && !text.contains("e"), "\(time) as \(text)")
                var delta = StateDelta()
                delta.sessions["s\(n)"] = SessionDelta(firstSeen: time, lastSeen: time)
                try await log.committer.apply(delta, now: time)
                #expect(try await score(RedisKeys().sessionFirstSeen, "s\(n)") == time, "\(time)")
                #expect(try await score(RedisKeys().activeSessions, "s\(n)") == time, "\(time)")
            }
        }
    }

    /// An entry with thousands of fields is dead-lettered with its first 1,000 fields and an error
    /// that says so, in the same commit as the rest of its batch (the dead letter stays one command).
    @Test(arguments: Backend.allCases)
    func aDeadLetterOfAnEntryWithThousandsOfFieldsKeepsTheFirstThousand(backend: Backend) async throws {
        try await backend.with { log, store, harness in
            let now = unixNow()
            // More fields than a dead letter keeps: on Redis more than Tally's append takes, in memory its most.
            let count = harness.pool == nil ? LogEntry.maxFields : 5000
            let fields = (0..<count).map { (name: "f\($0)", value: String(repeating: "v", count: $0 % 7)) }
            if let pool = harness.pool {
                // Straight into the stream: Tally's own append takes at most a few thousand values per entry.
                _ = try await pool.xadd(RedisKeys().events, fields: fields.map { ($0.name, .string($0.value)) })
            } else {
                try await log.append(entries: [fields])
            }
            try await log.append([EventRecord(event: .completion(id: "c", session: "s", at: now - 1, latencyMilliseconds: 5, accepted: true))])
            let entries = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            let commit = BatchCommit(acknowledged: [entries[1].id],
                                     delta: DeltaCalculator.delta(for: [try EventRecord(entryFields: entries[1].fields ?? [])], bucketSeconds: 10),
                                     deadLetters: [DeadLetterRequest(id: entries[0].id, error: "too many fields", deliveries: 3)])
            #expect(try await log.committer.commit(commit, consumer: "a", now: now) == .committed)
            let letters = try await log.deadLetters(count: 10)
            #expect(letters.count == 1)
            #expect(letters.first?.fields.map(\.name) == fields.prefix(ApplyLimits.maxDeadLetterFields).map(\.name))
            #expect(letters.first?.error == "too many fields [the entry had \(count) fields; this dead letter keeps the first 1000]")
            #expect(try await store.window(now: now).completions == 1)
            #expect(try await log.figures().pending == 0)
        }
    }
}
