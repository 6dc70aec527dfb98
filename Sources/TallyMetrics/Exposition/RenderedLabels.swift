/// A series' labels, escaped once when the series is created and reused by every render.
///
/// Holds the text between the braces (`method="GET",code="200"`), empty for a
/// series without labels.
public struct RenderedLabels: Sendable, Hashable {
    public let body: [UInt8]

    public static let empty = RenderedLabels(body: [])

    init(body: [UInt8]) {
        self.body = body
    }

    /// Renders `names[i]="values[i]"` pairs in the given order, escaping the values.
    public init(names: [String], values: [String]) {
        var body: [UInt8] = []
        for (index, name) in names.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: name.utf8)
            body.append(UInt8(ascii: "="))
            body.append(UInt8(ascii: "\""))
            ExpositionWriter.appendEscaped(values[index], to: &body, escapeQuotes: true)
            body.append(UInt8(ascii: "\""))
        }
        self.body = body
    }

    public var isEmpty: Bool { self.body.isEmpty }
}
