/// The bounds every incoming event is checked against, at ingest and again
/// when a worker reads the stored entry.
///
/// Every string limit counts UTF-8 bytes (an `e` followed by 4,000 combining
/// accents is one character but 8,001 bytes). Defaults follow the
/// architecture's event model; the timestamp skew is configurable because
/// clients' clocks and buffering differ.
public struct EventLimits: Sendable, Hashable {
    /// `id`, in UTF-8 bytes.
    public var maxIDBytes = 64
    /// `session_id`, in UTF-8 bytes.
    public var maxSessionIDBytes = 128
    /// `tool` (a label value), in UTF-8 bytes.
    public var maxToolBytes = 64
    /// `code` (a label value), in UTF-8 bytes.
    public var maxCodeBytes = 64
    /// Entries in `attributes`.
    public var maxAttributes = 16
    /// One attribute's key, in UTF-8 bytes.
    public var maxAttributeKeyBytes = 64
    /// One attribute's value, in UTF-8 bytes.
    public var maxAttributeValueBytes = 256
    /// One event's JSON object, in bytes: as the client sent it (whitespace
    /// and unknown fields included) and as the log stores it (normalised, id
    /// and ts filled in). 8 KiB holds any event whose fields are within the
    /// limits above and need little JSON escaping.
    public var maxEventBytes = 8 * 1024
    /// The largest `latency_ms`: one hour.
    public var maxLatencyMilliseconds: Double = 3_600_000
    /// Timestamps outside this range are refused at ingest and when a stored
    /// entry is read: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z in unix seconds.
    public var timestampRange: ClosedRange<Double> = 0...253_402_300_799
    /// How far ahead of the server's clock a timestamp may be (ingest only).
    public var maxFutureSkew: Double = 300
    /// How far behind the server's clock a timestamp may be (ingest only).
    public var maxPastSkew: Double = 86_400

    public init() {}

    public static let `default` = EventLimits()
}
