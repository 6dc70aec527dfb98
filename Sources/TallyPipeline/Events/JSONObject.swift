/// A parsed JSON object: its members in the order they came, looked up by a
/// scan, since an event has about ten of them and a hash table per event would
/// cost more than the scan. A name given twice counts once, with its last
/// value, as in a dictionary; equality ignores order.
struct JSONObject: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    struct Member: Sendable {
        let name: String
        let value: JSONValue
    }

    /// Every member as parsed, duplicates included.
    private(set) var members: [Member] = []

    init() {}

    /// An empty object with room for `capacity` members (the parser's guess: one allocation per event).
    init(capacity: Int) { members.reserveCapacity(capacity) }

    init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { Member(name: $0.0, value: $0.1) }
    }

    mutating func append(_ name: String, _ value: JSONValue) {
        members.append(Member(name: name, value: value))
    }

    /// The last value given for `name`.
    subscript(name: String) -> JSONValue? {
        var i = members.endIndex
        while i > members.startIndex {
            i -= 1
            if members[i].name == name { return members[i].value }
        }
        return nil
    }

    /// The members as a dictionary (the last value of each name).
    var dictionary: [String: JSONValue] {
        Dictionary(members.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    static func == (a: JSONObject, b: JSONObject) -> Bool { a.dictionary == b.dictionary }

    func hash(into hasher: inout Hasher) { hasher.combine(dictionary) }
}
