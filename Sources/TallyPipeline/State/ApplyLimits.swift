import TallyRedis

/// The bounds an apply step enforces before it changes anything. Both stores
/// check the same bounds, in the same order: first the batch's numbers, then
/// the stored values they add to; only then do they write.
///
/// Events that passed ``EventRecord/init(entryFields:limits:)`` with the
/// default ``EventLimits`` are far inside these bounds: a batch of 10,000
/// events of weight 10⁶ and an hour of latency each adds 3.6·10¹³.
public enum ApplyLimits {
    /// The largest amount one commit may add to one counter, sum or sketch
    /// bin, and the largest count or cap it may carry: 10¹⁵. Amounts are
    /// never negative.
    public static let maxAmount: Double = 1e15
    /// The bound on the times (unix seconds) a commit may carry, for `now`,
    /// session times and bucket expiry: before 10¹² (the year 33658), never
    /// negative.
    public static let maxTime: Double = 1e12
    /// Original fields a dead letter keeps (field–value pairs). An entry with
    /// more is cut to its first `maxDeadLetterFields` fields and its dead
    /// letter's `error` says how many it had: the dead letter stays one
    /// bounded command, and a valid event entry has at most two fields.
    public static let maxDeadLetterFields = 1000

    /// The `error` of a dead letter whose entry had more than ``maxDeadLetterFields`` fields.
    static func truncatedError(_ error: String, fields: Int) -> String {
        "\(error) [the entry had \(fields) fields; this dead letter keeps the first \(maxDeadLetterFields)]"
    }

    /// Throws ``ApplyError/Kind/input`` unless every number of `delta` and `now` is within the bounds.
    static func validate(_ delta: StateDelta, now: Double, configuration: StateConfiguration) throws(ApplyError) {
        try time(now, "now")
        let oldest = configuration.oldestBucket(now: now)
        for (start, bucket) in delta.buckets where start >= oldest {
            let name = "bucket \(start)"
            try time(Double(start), name)
            try time(Double(start) + Double(configuration.windowSeconds + configuration.bucketSeconds), "\(name) expiry")
            try amount(bucket.completions, "\(name) completions")
            try amount(bucket.accepted, "\(name) accepted")
            try amount(bucket.latency.sum, "\(name) latency sum")
            try amount(bucket.latency.zeroCount, "\(name) zero latencies")
            for (index, count) in bucket.latency.positiveBins { try amount(count, "\(name) bin \(index)") }
            for (index, count) in bucket.latency.negativeBins { try amount(count, "\(name) negative bin \(index)") }
            for (tool, counts) in bucket.toolCalls {
                try amount(counts.success, "\(name) tool '\(tool.prefix(64))' successes")
                try amount(counts.failure, "\(name) tool '\(tool.prefix(64))' failures")
            }
        }
        for (tool, counts) in delta.toolCalls {
            try amount(counts.success, "tool '\(tool.prefix(64))' successes")
            try amount(counts.failure, "tool '\(tool.prefix(64))' failures")
        }
        for (code, count) in delta.errorCodes { try amount(count, "code '\(code.prefix(64))'") }
        for (id, session) in delta.sessions {
            let name = "session '\(id.prefix(64))'"
            try time(session.firstSeen, "\(name) first seen")
            try time(session.lastSeen, "\(name) last seen")
            try amount(session.toolCalls, "\(name) tool calls")
            if let end = session.endedAt { try time(end, "\(name) end") }
        }
    }

    static func amount(_ value: Double, _ what: @autoclosure () -> String) throws(ApplyError) {
        guard value >= 0, value <= maxAmount else {  // false for NaN too
            throw ApplyError(kind: .input, message: "\(what()) is \(value), not a number in 0…\(JSONWriter.decimal(maxAmount))")
        }
    }

    static func time(_ value: Double, _ what: @autoclosure () -> String) throws(ApplyError) {
        guard value >= 0, value < maxTime else {
            throw ApplyError(kind: .input, message: "\(what()) is \(value), not a time in 0…\(JSONWriter.decimal(maxTime)) (exclusive)")
        }
    }

    /// Throws ``ApplyError/Kind/state`` unless `sum` (a stored value plus an amount) is finite.
    static func finiteSum(_ sum: Double, _ what: @autoclosure () -> String) throws(ApplyError) {
        guard sum.isFinite else {
            throw ApplyError(kind: .state, message: "\(what()) would become \(sum)")
        }
    }
}

/// An apply step refused a batch and changed nothing.
///
/// ``Kind/input``: the batch itself is at fault (a number out of range, a
/// malformed payload): isolating the entry that carries it and dead-lettering
/// it lets the rest through. ``Kind/state``: the stored state or the server is
/// at fault (a key of the wrong type, a stored value that is not a finite
/// number, a server too old): every batch that touches it fails alike, so
/// nothing is dead-lettered and the batch waits until the state is repaired.
public struct ApplyError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case input
        case state
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String {
        switch kind {
        case .input: "the apply step refused the batch: \(message)"
        case .state: "the apply step refused the batch because of the stored state: \(message)"
        }
    }

    /// The script's refusals (`TALLYINPUT …`, `TALLYSTATE …`) as apply errors; other errors unchanged.
    static func mapping(_ error: any Error) -> any Error {
        guard let redisError = error as? RedisError, case .server(_, let message) = redisError else { return error }
        let rest = message.split(separator: " ", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        switch redisError.serverErrorCode {
        case "TALLYINPUT": return ApplyError(kind: .input, message: rest)
        case "TALLYSTATE": return ApplyError(kind: .state, message: rest)
        default: return error
        }
    }
}
