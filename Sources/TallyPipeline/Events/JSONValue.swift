/// A parsed JSON value (``JSONParser``) whose kinds stay distinct: `true` is
/// never the number 1, so the validator can say which type a client sent.
enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case object(JSONObject)
    case array([JSONValue])

    /// The JSON type's name, for error messages.
    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .object: return "an object"
        case .array: return "an array"
        }
    }
}
