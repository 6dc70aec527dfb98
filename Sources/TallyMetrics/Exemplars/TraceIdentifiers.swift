import ServiceContextModule

/// The trace and span a piece of work belongs to, as a W3C `traceparent` header carries them;
/// kept in the task's `ServiceContext` so that the swift-metrics path can attach them as
/// exemplars (`trace_id`, `span_id`) to what it records inside that work.
public struct TraceIdentifiers: Sendable, Hashable {
    /// 32 lower-case hex digits, not all zero.
    public let traceID: String
    /// 16 lower-case hex digits, not all zero.
    public let spanID: String

    /// Validated identifiers; nil unless both have the W3C form.
    public init?(traceID: String, spanID: String) {
        guard Self.isHex(traceID, count: 32), Self.isHex(spanID, count: 16) else { return nil }
        self.traceID = traceID
        self.spanID = spanID
    }

    /// Reads a W3C `traceparent` header (`00-<trace id>-<span id>-<flags>`, version 00, or a later
    /// version with the same first four fields); nil for anything else, which is then ignored.
    public init?(traceparent: String) {
        let header = traceparent.utf8
        guard header.count >= 55, header.count <= 512 else { return nil }
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, Self.isHex(String(parts[0]), count: 2), parts[0] != "ff", Self.isHex(String(parts[3]), count: 2),
              parts[0] != "00" || parts.count == 4 else { return nil }
        self.init(traceID: String(parts[1]), spanID: String(parts[2]))
    }

    /// The exemplar these identifiers make: `{trace_id="…",span_id="…"}` (64 of the 128 characters allowed).
    public var exemplar: Exemplar {
        // Both are validated hex of fixed length: the labels are valid and within the limit.
        try! Exemplar(labels: [("trace_id", traceID), ("span_id", spanID)])
    }

    static func isHex(_ text: String, count: Int) -> Bool {
        let bytes = text.utf8
        guard bytes.count == count else { return false }
        var nonZero = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0"): continue
            case UInt8(ascii: "1")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): nonZero = true
            default: return false
            }
        }
        return nonZero || count == 2
    }
}

/// The `ServiceContext` key of ``TraceIdentifiers``.
public enum TraceIdentifiersKey: ServiceContextKey {
    public typealias Value = TraceIdentifiers
    public static var nameOverride: String? { "tally.trace-identifiers" }
}

/// The `ServiceContext` key of the exemplar made once from the context's ``TraceIdentifiers``.
enum TraceExemplarKey: ServiceContextKey {
    typealias Value = Exemplar
}

extension ServiceContext {
    /// The trace and span of the current work, when a tracer or Tally's `traceparent` middleware set
    /// them. Setting them also makes their exemplar, once, for every recording in this context.
    public var traceIdentifiers: TraceIdentifiers? {
        get { self[TraceIdentifiersKey.self] }
        set {
            self[TraceIdentifiersKey.self] = newValue
            self[TraceExemplarKey.self] = newValue?.exemplar
        }
    }

    /// The exemplar of ``traceIdentifiers``, made when they were set.
    public var traceExemplar: Exemplar? { self[TraceExemplarKey.self] }
}
