/// The bounds every incoming event is checked against.
///
/// Defaults follow the architecture's event model; the timestamp skew is
/// configurable because clients' clocks and buffering differ.
public struct EventLimits: Sendable, Hashable {
    public var maxIDLength = 64
    public var maxSessionIDLength = 128
    public var maxToolLength = 64
    public var maxCodeLength = 64
    public var maxAttributes = 16
    public var maxAttributeKeyLength = 64
    public var maxAttributeValueLength = 256
    /// How far ahead of the server's clock a timestamp may be.
    public var maxFutureSkew: Double = 300
    /// How far behind the server's clock a timestamp may be.
    public var maxPastSkew: Double = 86_400

    public init() {}

    public static let `default` = EventLimits()
}
