/// A minimal reader of text exposition for assertions: sample lines as
/// `series → value`, where `series` is the text before the value
/// (`name{labels}`), exactly as rendered.
public struct ExpositionSamples: Sendable {
    public let values: [String: Double]
    public let lines: [String]

    public init(_ bytes: [UInt8]) {
        self.init(String(decoding: bytes, as: UTF8.self))
    }

    public init(_ text: String) {
        var values: [String: Double] = [:]
        let lines = text.split(separator: "\n").map(String.init)
        for line in lines where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let series = String(line[..<space])
            let raw = String(line[line.index(after: space)...])
            let value: Double?
            switch raw {
            case "NaN": value = .nan
            case "+Inf": value = .infinity
            case "-Inf": value = -.infinity
            default: value = Double(raw)
            }
            if let value { values[series] = value }
        }
        self.values = values
        self.lines = lines
    }

    public subscript(series: String) -> Double? {
        self.values[series]
    }
}
