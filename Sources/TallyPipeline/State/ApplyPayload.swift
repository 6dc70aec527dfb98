import Foundation

/// The JSON argument of ``ApplyScript``: a delta flattened into arrays, with the keys it touches.
struct ApplyPayload: Encodable {
    struct Keys: Encodable {
        var knownTools, knownCodes, toolSuccesses, toolFailures, codeTotals, sessions: String
    }

    struct Bucket: Encodable {
        var key: String
        var n, a, sum, zero: Double
        var bins: [[Double]]
        var tools: [Tuple]
        var expireAt: Int
    }

    /// A heterogeneous JSON array (`["grep", 3, 1]`).
    struct Tuple: Encodable {
        enum Item { case string(String), number(Double) }
        var items: [Item]

        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            for item in items {
                switch item {
                case .string(let s): try c.encode(s)
                case .number(let d): try c.encode(d)
                }
            }
        }
    }

    var group: String
    var consumer: String
    var now: Double
    var nowText: String
    var sessionTimeout: Double
    var maxTools: Int
    var maxCodes: Int
    var k: Keys
    var ack: [String]
    /// The lowest and highest id to check (empty without ids).
    var lo: String
    var hi: String
    var dead: [Tuple]
    var buckets: [Bucket]
    var tools: [Tuple]
    var codes: [Tuple]
    var sessions: [Tuple]

    init(delta: StateDelta, acknowledged: [String], deadLetters: [DeadLetterRequest], group: String, consumer: String,
         now: Double, keys: RedisKeys, configuration: StateConfiguration) {
        self.group = group
        self.consumer = consumer
        self.now = now
        self.nowText = String(now)
        self.sessionTimeout = Double(configuration.sessionTimeoutSeconds)
        self.maxTools = configuration.maxTools
        self.maxCodes = configuration.maxErrorCodes
        self.k = Keys(knownTools: keys.knownTools, knownCodes: keys.knownCodes, toolSuccesses: keys.toolSuccesses,
                      toolFailures: keys.toolFailures, codeTotals: keys.codeTotals, sessions: keys.activeSessions)
        self.ack = acknowledged
        let ids = (acknowledged + deadLetters.map(\.id)).compactMap { StreamID($0) }
        self.lo = ids.min()?.description ?? ""
        self.hi = ids.max()?.description ?? ""
        self.dead = deadLetters.map { Tuple(items: [.string($0.id), .string($0.error), .number(Double($0.deliveries))]) }
        let oldest = configuration.oldestBucket(now: now)
        self.buckets = delta.buckets.filter { $0.key >= oldest }.sorted { $0.key < $1.key }.map { start, bucket in
            Bucket(
                key: keys.bucket(start), n: bucket.completions, a: bucket.accepted,
                sum: bucket.latency.sum, zero: bucket.latency.zeroCount,
                bins: bucket.latency.positiveBins.sorted { $0.key < $1.key }.map { [Double($0.key), $0.value] },
                tools: bucket.toolCalls.sorted { $0.key < $1.key }.map { Tuple(items: [.string($0.key), .number($0.value.success), .number($0.value.failure)]) },
                expireAt: start + configuration.windowSeconds + configuration.bucketSeconds
            )
        }
        self.tools = delta.toolCalls.sorted { $0.key < $1.key }.map { Tuple(items: [.string($0.key), .number($0.value.success), .number($0.value.failure)]) }
        self.codes = delta.errorCodes.sorted { $0.key < $1.key }.map { Tuple(items: [.string($0.key), .number($0.value)]) }
        self.sessions = delta.sessions.sorted { $0.key < $1.key }.map { id, s in
            Tuple(items: [.string(id), .string(keys.session(id)), .number(s.firstSeen), .number(s.lastSeen), .number(s.toolCalls), .number(s.endedAt ?? -1)])
        }
    }

    func json() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }
}
