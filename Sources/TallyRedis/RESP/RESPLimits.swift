/// Bounds the decoder enforces so hostile or corrupt input cannot exhaust memory or the stack.
public struct RESPLimits: Sendable, Equatable {
    /// Deepest nesting of arrays/maps/sets/attributes (default 64).
    public var maxDepth: Int
    /// Largest bulk string, in bytes (default 512 MiB, Redis's own `proto-max-bulk-len`).
    public var maxBulkLength: Int
    /// Most elements in one aggregate (default 16 Mi).
    public var maxAggregateCount: Int
    /// Longest simple line (status, error, number) before CRLF (default 1 MiB).
    public var maxLineLength: Int

    public init(maxDepth: Int = 64, maxBulkLength: Int = 512 << 20, maxAggregateCount: Int = 16 << 20, maxLineLength: Int = 1 << 20) {
        self.maxDepth = maxDepth
        self.maxBulkLength = maxBulkLength
        self.maxAggregateCount = maxAggregateCount
        self.maxLineLength = maxLineLength
    }

    public static let `default` = RESPLimits()
}
