/// One dead-lettered entry: the original entry's id and fields, why it failed, when, after how many deliveries.
public struct DeadLetter: Sendable {
    /// The id in the dead-letter stream.
    public var id: String
    public var originalID: String
    public var error: String
    /// Unix seconds.
    public var failedAt: Double
    public var deliveries: Int
    /// The original entry's fields (empty if it had been deleted).
    public var fields: [(name: String, value: String)]

    public init(id: String, originalID: String, error: String, failedAt: Double, deliveries: Int, fields: [(name: String, value: String)]) {
        self.id = id
        self.originalID = originalID
        self.error = error
        self.failedAt = failedAt
        self.deliveries = deliveries
        self.fields = fields
    }

    static let metadataFields: Set<String> = ["error", "failed_at", "deliveries", "original_id"]

    /// Parses a dead-letter stream entry written by a commit.
    init(entryID: String, fields all: [(name: String, value: String)]) {
        var original: [(name: String, value: String)] = []
        var meta: [String: String] = [:]
        for field in all {
            if Self.metadataFields.contains(field.name), meta[field.name] == nil {
                meta[field.name] = field.value
            } else {
                original.append(field)
            }
        }
        self.init(
            id: entryID, originalID: meta["original_id"] ?? "", error: meta["error"] ?? "",
            failedAt: meta["failed_at"].flatMap(Double.init) ?? 0, deliveries: meta["deliveries"].flatMap(Int.init) ?? 0,
            fields: original
        )
    }
}
