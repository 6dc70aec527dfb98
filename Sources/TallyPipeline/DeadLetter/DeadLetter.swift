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

    /// The fields a commit writes before the original entry's, in this order (the apply script and
    /// the memory log both write them from here).
    enum Field {
        static let error = "error"
        static let failedAt = "failed_at"
        static let deliveries = "deliveries"
        static let originalID = "original_id"
    }

    static let metadataFields: Set<String> = [Field.error, Field.failedAt, Field.deliveries, Field.originalID]

    /// A dead letter's fields: the metadata, then the original entry's.
    static func fields(error: String, failedAt: String, deliveries: String, originalID: String,
                       original: some Sequence<(name: String, value: String)>) -> [(name: String, value: String)] {
        [(Field.error, error), (Field.failedAt, failedAt), (Field.deliveries, deliveries), (Field.originalID, originalID)] + Array(original)
    }

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
            id: entryID, originalID: meta[Field.originalID] ?? "", error: meta[Field.error] ?? "",
            failedAt: meta[Field.failedAt].flatMap(Double.init) ?? 0, deliveries: meta[Field.deliveries].flatMap(Int.init) ?? 0,
            fields: original
        )
    }
}
