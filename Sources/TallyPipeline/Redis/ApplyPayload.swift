import Foundation
import TallyRedis

/// The arguments of ``ApplyScript``: every key the batch touches (declared as
/// `KEYS`, as Redis Cluster requires), a delta flattened into JSON arrays that
/// refer to those keys by index, and the values the script passes to Redis as
/// they are — the ids to acknowledge and the sessions' first and last seen
/// times as `ZADD` pairs — as plain `ARGV` strings, which the script neither
/// decodes nor formats again.
///
/// Written by hand with ``JSONWriter`` (it is built once per batch on the hot path).
struct ApplyPayload {
    let json: String
    /// `ARGV`: ``json``, then the ids to acknowledge (`acks` in the JSON), then `ZADD` pairs (a
    /// score as ``scoreText(_:)`` and an id) in three runs: first seen times only, times that are
    /// both a session's first and last seen (`shared`: a session seen at one time in the batch, the
    /// common case, is sent once), last seen times only. The first two runs are every session's
    /// first seen (`firsts` pairs), the last two the last seen of every session that does not end
    /// in this batch (`lasts` pairs).
    let arguments: [RedisArgument]
    /// `KEYS`: the fixed keys in ``fixedKeys(_:)`` order, then one per window bucket.
    let keys: [String]

    /// The keys every call declares first, in this order (the script's `KEYS[1]`…`KEYS[12]`).
    static func fixedKeys(_ keys: RedisKeys) -> [String] {
        [keys.events, keys.deadLetters, keys.knownTools, keys.knownCodes, keys.toolSuccesses, keys.toolFailures,
         keys.codeTotals, keys.activeSessions, keys.sessionFirstSeen, keys.sessionToolCalls, keys.endedSessions,
         keys.deliveryFence]
    }

    /// - Parameter now: the time the step runs at; nil (always, outside tests): Redis's `TIME`, read
    ///   inside the script, so that no node's clock decides which buckets are still in the window.
    /// - Parameter fence: the ``LogRead/fence`` of the read that delivered every entry (first commit only).
    init(delta: StateDelta, acknowledged: [String], deadLetters: [DeadLetterRequest], fence: String? = nil, group: String,
         consumer: String, now: Double?, keys: RedisKeys, configuration: StateConfiguration) {
        var w = JSONWriter()
        w.begin()
        w.key("group"); w.string(group)
        w.key("consumer"); w.string(consumer)
        if let fence {
            w.key("fence"); w.string(fence)
        }
        if let now {
            w.key("now"); w.number(now)
        }
        w.key("bucketSeconds"); w.number(Double(configuration.bucketSeconds))
        w.key("wholeBuckets"); w.number(Double(configuration.wholeBuckets))
        w.key("sessionTimeout"); w.number(Double(configuration.sessionTimeoutSeconds))
        w.key("maxTools"); w.number(Double(configuration.maxTools))
        w.key("maxCodes"); w.number(Double(configuration.maxErrorCodes))
        var declared = Self.fixedKeys(keys)
        var arguments: [RedisArgument] = [.string("")]
        arguments.reserveCapacity(1 + acknowledged.count + 4 * delta.sessions.count)
        w.key("acks"); w.number(Double(acknowledged.count))
        for id in acknowledged { arguments.append(.string(id)) }
        let ids = (acknowledged + deadLetters.map(\.id)).compactMap { StreamID($0) }
        w.key("lo"); w.string(ids.min()?.description ?? "")
        w.key("hi"); w.string(ids.max()?.description ?? "")
        w.key("dead")
        w.beginArray()
        for letter in deadLetters {
            w.beginArray(); w.string(letter.id); w.string(letter.error); w.number(Double(letter.deliveries)); w.endArray()
        }
        w.endArray()
        // Every bucket of the delta: the script leaves out those already older than the window.
        w.key("buckets")
        w.beginArray()
        for (start, bucket) in delta.buckets.sorted(by: { $0.key < $1.key }) {
            w.begin()
            declared.append(keys.bucket(start))
            w.key("key"); w.number(Double(declared.count))
            w.key("start"); w.number(Double(start))
            w.key("n"); w.number(bucket.completions)
            w.key("a"); w.number(bucket.accepted)
            w.key("sum"); w.number(bucket.latency.sum)
            w.key("zero"); w.number(bucket.latency.zeroCount)
            w.key("bins")
            w.beginArray()
            // Flat `["b<index>", count, …]`: one Lua table where pairs would take one each, and the
            // field names ready-made.
            for (index, count) in bucket.latency.positiveBins.sorted(by: { $0.key < $1.key }) {
                w.string(RedisStateStore.BucketField.binPrefix + String(index)); w.number(count)
            }
            w.endArray()
            w.key("tools")
            Self.writeOutcomes(bucket.toolCalls, to: &w)
            // One bucket past the moment it leaves the window: a reader whose clock is a little behind
            // Redis's still finds it.
            w.key("expireAt"); w.number(Double(configuration.bucketLeavesWindow(start) + configuration.bucketSeconds))
            w.end()
        }
        w.endArray()
        w.key("tools")
        Self.writeOutcomes(delta.toolCalls, to: &w)
        w.key("codes")
        w.beginArray()
        for (code, count) in delta.errorCodes.sorted(by: { $0.key < $1.key }) {
            w.beginArray(); w.string(code); w.number(count); w.endArray()
        }
        w.endArray()
        // Sessions: first seen of every one and last seen of those that do not end here as ZADD pairs
        // in ARGV (first only, shared, last only); the few that end here as [id, last, end] triples
        // and the tool calls as [id, calls] pairs in the JSON.
        let sessions = delta.sessions.sorted(by: { $0.key < $1.key })
        var shared: [RedisArgument] = [], lastOnly: [RedisArgument] = []
        for (id, session) in sessions {
            let first = RedisArgument.string(Self.scoreText(session.firstSeen))
            if session.endedAt == nil && session.lastSeen == session.firstSeen {
                shared.append(first); shared.append(.string(id))
                continue
            }
            arguments.append(first); arguments.append(.string(id))
            if session.endedAt == nil {
                lastOnly.append(.string(Self.scoreText(session.lastSeen))); lastOnly.append(.string(id))
            }
        }
        let firsts = sessions.count, lasts = (shared.count + lastOnly.count) / 2
        arguments.append(contentsOf: shared)
        arguments.append(contentsOf: lastOnly)
        w.key("firsts"); w.number(Double(firsts))
        w.key("lasts"); w.number(Double(lasts))
        w.key("shared"); w.number(Double(shared.count / 2))
        w.key("ending")
        w.beginArray()
        for (id, session) in sessions {
            if let end = session.endedAt { w.string(id); w.number(session.lastSeen); w.number(end) }
        }
        w.endArray()
        w.key("calls")
        w.beginArray()
        for (id, session) in sessions where session.toolCalls != 0 {
            w.string(id); w.number(session.toolCalls)
        }
        w.endArray()
        w.end()
        self.json = w.text
        arguments[0] = .string(json)
        self.arguments = arguments
        self.keys = declared
    }

    /// A time as the apply step passes it to `ZADD`: plain decimal digits with at most one point and
    /// no exponent (the script refuses anything else, so that its check and Redis's parser agree on
    /// every string it lets through), reading back as exactly `value`. Times the step refuses anyway
    /// (negative, not finite, from 10¹² on) keep Swift's form.
    static func scoreText(_ value: Double) -> String {
        let shortest = JSONWriter.decimal(value)
        guard value > 0, value < ApplyLimits.maxTime, shortest.utf8.contains(UInt8(ascii: "e")) else { return shortest }
        // Below 10⁻⁴ Swift writes an exponent: 17 significant digits after the point instead.
        let digits = 17 - Int(log10(value).rounded(.down))
        return String(format: "%.\(digits)f", value)
    }

    /// `[[name, successes, failures], …]` in name order (the order tools are admitted in).
    private static func writeOutcomes(_ outcomes: [String: OutcomeCounts], to w: inout JSONWriter) {
        w.beginArray()
        for (name, counts) in outcomes.sorted(by: { $0.key < $1.key }) {
            w.beginArray(); w.string(name); w.number(counts.success); w.number(counts.failure); w.endArray()
        }
        w.endArray()
    }
}
