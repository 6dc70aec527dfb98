import NIOCore

/// One argument of a command as it goes on the wire (always a RESP bulk string).
public enum RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case bytes(ByteBuffer)
    case integer(Int)
    case double(Double)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
}

/// A command and its arguments, e.g. `RedisCommand("SET", "k", "v")`.
///
/// A value type, `Sendable`; `name` (the command word, plus the subcommand
/// for container commands such as `XINFO GROUPS`) is what errors report.
public struct RedisCommand: Sendable, Hashable {
    public var arguments: [RedisArgument]

    public init(_ arguments: [RedisArgument]) {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        self.arguments = arguments
    }

    public init(_ name: String, _ arguments: RedisArgument...) {
        self.arguments = [.string(name)] + arguments
    }

    public init(_ name: String, arguments: [RedisArgument]) {
        self.arguments = [.string(name)] + arguments
    }

    private static let containers: Set<String> = ["XINFO", "XGROUP", "CONFIG", "SCRIPT", "CLIENT", "ACL", "OBJECT", "MEMORY", "CLUSTER", "FUNCTION", "COMMAND"]

    /// The command word in upper case, with its subcommand for container commands (`XINFO GROUPS`).
    public var name: String {
        guard case .string(let first) = arguments[0] else { return "<binary>" }
        // Commands are nearly always written in capitals already: no new string then.
        let word = first.utf8.allSatisfy({ $0 < 0x61 || $0 > 0x7A }) ? first : first.uppercased()
        if Self.containers.contains(word), arguments.count > 1, case .string(let sub) = arguments[1] {
            return word + " " + sub.uppercased()
        }
        return word
    }
}
