/// Builds exposition text as UTF-8 bytes in one growing buffer.
///
/// Knows the line syntax of both formats (metadata, samples, buckets,
/// quantiles, `_created`, number formatting and escaping); what to write is
/// decided by the registry and the series.
public struct ExpositionWriter: Sendable {
    public let format: ExpositionFormat
    public private(set) var bytes: [UInt8] = []

    public init(format: ExpositionFormat, reservingCapacity capacity: Int = 4096) {
        self.format = format
        self.bytes.reserveCapacity(capacity)
    }

    /// `# HELP`, `# TYPE` and, in OpenMetrics, `# UNIT` for a family.
    /// In text 0.0.4 a counter's metadata names the `_total` sample.
    public mutating func writeMetadata(name: String, kind: MetricKind, help: String, unit: String?) {
        let metadataName: String
        if self.format == .prometheusText, kind == .counter {
            metadataName = name + "_total"
        } else {
            metadataName = name
        }
        self.append("# TYPE ")
        self.append(metadataName)
        self.append(" ")
        self.append(kind.rawValue)
        self.newline()
        if self.format == .openMetrics, let unit, !unit.isEmpty {
            self.append("# UNIT ")
            self.append(metadataName)
            self.append(" ")
            self.append(unit)
            self.newline()
        }
        if !help.isEmpty {
            self.append("# HELP ")
            self.append(metadataName)
            self.append(" ")
            Self.appendEscaped(help, to: &self.bytes, escapeQuotes: self.format == .openMetrics)
            self.newline()
        }
    }

    /// A sample line: its pre-rendered text up to the value (see ``SampleLinePrefixes``), then the value.
    @inline(__always)
    public mutating func writeLine(_ prefix: SampleLinePrefix, value: Int64) {
        self.bytes.append(contentsOf: prefix.bytes)
        self.appendInteger(value)
        self.newline()
    }

    @inline(__always)
    public mutating func writeLine(_ prefix: SampleLinePrefix, value: Double) {
        self.bytes.append(contentsOf: prefix.bytes)
        self.appendDouble(value)
        self.newline()
    }

    /// A sample line with an exemplar after the value (` # {labels} value timestamp`), in OpenMetrics only.
    package mutating func writeLine(_ prefix: SampleLinePrefix, value: Int64, exemplar: RecordedExemplar?) {
        self.bytes.append(contentsOf: prefix.bytes)
        self.appendInteger(value)
        self.appendExemplar(exemplar)
        self.newline()
    }

    private mutating func appendExemplar(_ recorded: RecordedExemplar?) {
        guard self.format == .openMetrics, let recorded else { return }
        self.append(" # ")
        self.bytes.append(contentsOf: recorded.exemplar.renderedLabels)
        self.append(" ")
        self.appendDouble(recorded.value)
        self.append(" ")
        self.appendDouble((recorded.timestamp * 1000).rounded() / 1000)
    }

    /// The `_created` line with the creation time; OpenMetrics only.
    public mutating func writeCreated(_ prefix: SampleLinePrefix, createdAt: Double) {
        guard self.format == .openMetrics else { return }
        self.writeLine(prefix, value: (createdAt * 1000).rounded() / 1000)
    }

    /// Ends the exposition (`# EOF` in OpenMetrics).
    public mutating func finish() {
        if self.format == .openMetrics {
            self.append("# EOF")
            self.newline()
        }
    }

    // MARK: - Pieces

    @inline(__always)
    private mutating func append(_ string: String) {
        self.bytes.append(contentsOf: string.utf8)
    }

    @inline(__always)
    private mutating func newline() {
        self.bytes.append(UInt8(ascii: "\n"))
    }

    private mutating func appendInteger(_ value: Int64) {
        if value >= 0, value < 10 {
            self.bytes.append(UInt8(ascii: "0") &+ UInt8(value))
            return
        }
        if value < 0 { self.bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, no allocation
        withUnsafeMutableBytes(of: &digits) { scratch in
            var index = scratch.count
            while magnitude > 0 {
                index &-= 1
                scratch[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            }
            self.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[index...]).bindMemory(to: UInt8.self))
        }
    }

    private mutating func appendDouble(_ value: Double) {
        self.append(formatExpositionDouble(value))
    }

    /// Escapes `\` and line feeds, and `"` when `escapeQuotes` (label values, OpenMetrics help).
    static func appendEscaped(_ string: String, to bytes: inout [UInt8], escapeQuotes: Bool) {
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "\n"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\"") where escapeQuotes:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "\""))
            default:
                bytes.append(byte)
            }
        }
    }
}

/// Formats a float as both formats expect: `NaN`, `+Inf`, `-Inf`, otherwise the
/// shortest text that reads back to the same double (`1.0`, `0.005`, `1e-05`).
public func formatExpositionDouble(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value == .infinity { return "+Inf" }
    if value == -.infinity { return "-Inf" }
    return value.description
}
