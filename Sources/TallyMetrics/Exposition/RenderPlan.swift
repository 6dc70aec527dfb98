import Synchronization

/// One sample line a series type writes per series, before its value: a name
/// suffix and, for buckets and quantiles, one extra label.
public struct SampleLine: Sendable {
    public let suffix: String
    public let extraLabel: (name: String, value: String)?

    public init(suffix: String, extraLabel: (name: String, value: String)? = nil) {
        self.suffix = suffix
        self.extraLabel = extraLabel
    }
}

/// The text of every sample line of a family's series up to the value
/// (`name_bucket{route="/a",le="0.5"} `), rendered once when the family's
/// series change, plus unretained references to the series in render order.
/// A render then only copies these bytes and formats numbers: no string
/// building and no reference counting per series. Immutable after `init`;
/// the unretained references stay valid because `entries` holds the series.
final class RenderPlan: @unchecked Sendable {
    /// Keeps the series alive for as long as the plan is used.
    let entries: [FamilyEntry]
    let series: [Unmanaged<AnyObject>]
    let bytes: [UInt8]
    /// Start of each line in `bytes`, one more at the end; a series owns
    /// `linesPerSeries` consecutive lines, the last being its `_created` line.
    let starts: [Int]
    let linesPerSeries: Int
    let labelNames: [String]
    /// Each series' labels as encoded protobuf `LabelPair` fields, made at the first protobuf
    /// render: a registry only ever scraped as text never builds them.
    private let encodedLabels = Mutex<[[UInt8]]?>(nil)

    init(entries: [FamilyEntry], name: String, labelNames: [String], lines: [SampleLine]) {
        self.entries = entries
        self.series = entries.map { Unmanaged.passUnretained($0.series as AnyObject) }
        self.labelNames = labelNames
        self.linesPerSeries = lines.count + 1
        var bytes: [UInt8] = []
        var starts: [Int] = []
        let allLines = lines + [SampleLine(suffix: "_created")]
        for entry in entries {
            for line in allLines {
                starts.append(bytes.count)
                bytes.append(contentsOf: name.utf8)
                bytes.append(contentsOf: line.suffix.utf8)
                let hasLabels = !entry.labels.isEmpty
                if hasLabels || line.extraLabel != nil {
                    bytes.append(UInt8(ascii: "{"))
                    bytes.append(contentsOf: entry.labels.body)
                    if let extra = line.extraLabel {
                        if hasLabels { bytes.append(UInt8(ascii: ",")) }
                        bytes.append(contentsOf: extra.name.utf8)
                        bytes.append(contentsOf: "=\"".utf8)
                        bytes.append(contentsOf: extra.value.utf8)
                        bytes.append(UInt8(ascii: "\""))
                    }
                    bytes.append(UInt8(ascii: "}"))
                }
                bytes.append(UInt8(ascii: " "))
            }
        }
        starts.append(bytes.count)
        self.bytes = bytes
        self.starts = starts
    }

    /// Each series' labels as encoded protobuf `LabelPair` fields, in render order.
    func protobufLabels() -> [[UInt8]] {
        self.encodedLabels.withLock { cached in
            if let cached { return cached }
            let encoded = self.entries.map { ProtobufWriter.labelPairs(names: self.labelNames, values: $0.values) }
            cached = encoded
            return encoded
        }
    }

    func withLines<Result>(_ body: (PlanLines) -> Result) -> Result {
        self.bytes.withUnsafeBufferPointer { bytes in
            self.starts.withUnsafeBufferPointer { starts in
                body(PlanLines(bytes: bytes, starts: starts, linesPerSeries: self.linesPerSeries, first: 0))
            }
        }
    }
}

/// The pre-rendered line prefixes of one series (or, before `row`, of all).
public struct SampleLinePrefixes {
    let bytes: UnsafeBufferPointer<UInt8>
    let starts: UnsafeBufferPointer<Int>
    let first: Int

    /// The text of line `index` up to its value.
    @inline(__always)
    public subscript(index: Int) -> SampleLinePrefix {
        let start = self.starts[self.first + index]
        let end = self.starts[self.first + index + 1]
        return SampleLinePrefix(bytes: UnsafeBufferPointer(rebasing: self.bytes[start..<end]))
    }
}

/// One pre-rendered sample line up to its value, valid while the registry renders: an opaque
/// handle that only ``ExpositionWriter`` reads, so no unsafe buffer is public.
public struct SampleLinePrefix {
    let bytes: UnsafeBufferPointer<UInt8>
}

struct PlanLines {
    let bytes: UnsafeBufferPointer<UInt8>
    let starts: UnsafeBufferPointer<Int>
    let linesPerSeries: Int
    let first: Int

    func row(_ row: Int) -> SampleLinePrefixes {
        SampleLinePrefixes(bytes: self.bytes, starts: self.starts, first: row * self.linesPerSeries)
    }
}
