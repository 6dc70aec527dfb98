/// The kinds of telemetry event a client can send.
public enum EventType: String, Sendable, Hashable, Codable, CaseIterable {
    case completion
    case toolCall = "tool_call"
    case sessionStart = "session_start"
    case sessionEnd = "session_end"
    case error
}

/// One validated, normalised telemetry event: the unit the log stores and the calculator reads.
///
/// Built only through ``EventDecoder`` (or the memberwise initialiser in
/// tests), so every value satisfies ``EventLimits``: the id and timestamp are
/// always present, and the fields its type requires are set.
public struct TelemetryEvent: Sendable, Hashable {
    public var id: String
    public var type: EventType
    public var sessionID: String
    /// Unix time in seconds.
    public var timestamp: Double
    /// `completion`: the suggestion's latency in milliseconds (≥ 0, finite).
    public var latencyMilliseconds: Double?
    /// `completion`: whether the suggestion was accepted.
    public var accepted: Bool?
    /// `tool_call`: the tool's name.
    public var tool: String?
    /// `tool_call`: whether the call succeeded.
    public var success: Bool?
    /// `error`: the client's error code.
    public var code: String?
    /// Free-form context; never used as a label.
    public var attributes: [String: String]

    public init(
        id: String, type: EventType, sessionID: String, timestamp: Double,
        latencyMilliseconds: Double? = nil, accepted: Bool? = nil,
        tool: String? = nil, success: Bool? = nil, code: String? = nil,
        attributes: [String: String] = [:]
    ) {
        self.id = id
        self.type = type
        self.sessionID = sessionID
        self.timestamp = timestamp
        self.latencyMilliseconds = latencyMilliseconds
        self.accepted = accepted
        self.tool = tool
        self.success = success
        self.code = code
        self.attributes = attributes
    }

    public static func completion(id: String, session: String, at timestamp: Double, latencyMilliseconds: Double, accepted: Bool) -> TelemetryEvent {
        TelemetryEvent(id: id, type: .completion, sessionID: session, timestamp: timestamp, latencyMilliseconds: latencyMilliseconds, accepted: accepted)
    }

    public static func toolCall(id: String, session: String, at timestamp: Double, tool: String, success: Bool) -> TelemetryEvent {
        TelemetryEvent(id: id, type: .toolCall, sessionID: session, timestamp: timestamp, tool: tool, success: success)
    }

    public static func sessionStart(id: String, session: String, at timestamp: Double) -> TelemetryEvent {
        TelemetryEvent(id: id, type: .sessionStart, sessionID: session, timestamp: timestamp)
    }

    public static func sessionEnd(id: String, session: String, at timestamp: Double) -> TelemetryEvent {
        TelemetryEvent(id: id, type: .sessionEnd, sessionID: session, timestamp: timestamp)
    }

    public static func clientError(id: String, session: String, at timestamp: Double, code: String) -> TelemetryEvent {
        TelemetryEvent(id: id, type: .error, sessionID: session, timestamp: timestamp, code: code)
    }
}
