/// Why bytes could not be read back as a ``QuantileSketch``.
public enum SketchDecodingError: Error, Equatable, CustomStringConvertible {
    case unsupportedVersion(UInt8)
    case truncated(at: Int)
    case invalidValue(String)

    public var description: String {
        switch self {
        case .unsupportedVersion(let version):
            return "quantile sketch: unsupported serialisation version \(version) (this build reads version 1)"
        case .truncated(let offset):
            return "quantile sketch: input ends early at byte \(offset)"
        case .invalidValue(let what):
            return "quantile sketch: invalid value: \(what)"
        }
    }
}

/// A compact binary form: version, flags, max bins, sum, total count, zero count, then each
/// store's bins as ascending zig-zag index deltas and counts (varints when every
/// count is whole, else IEEE doubles). A sketch of a few hundred bins takes a
/// few hundred bytes.
extension QuantileSketch {
    private static let formatVersion: UInt8 = 1

    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = [Self.formatVersion]
        let integral = ([self.zeroCount] + Array(self.positiveBins.values) + Array(self.negativeBins.values))
            .allSatisfy { $0 == $0.rounded() && $0 < 0x1p63 }
        bytes.append(integral ? 1 : 0)
        Self.appendVarint(UInt64(self.maxBins), to: &bytes)
        Self.appendDouble(self.sum, to: &bytes)
        Self.appendDouble(self.count, to: &bytes)
        Self.appendCount(self.zeroCount, integral: integral, to: &bytes)
        for bins in [self.positiveBins, self.negativeBins] {
            Self.appendVarint(UInt64(bins.count), to: &bytes)
            var previous = 0
            for index in bins.keys.sorted() {
                let delta = Int64(index - previous)
                Self.appendVarint(UInt64(bitPattern: (delta << 1) ^ (delta >> 63)), to: &bytes)
                Self.appendCount(bins[index]!, integral: integral, to: &bytes)
                previous = index
            }
        }
        return bytes
    }

    public init(serialized bytes: [UInt8]) throws(SketchDecodingError) {
        var reader = ByteReader(bytes: bytes)
        let version = try reader.byte()
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        let integral = try reader.byte() == 1
        let maxBins = try reader.varint()
        guard maxBins >= 1, maxBins <= 1 << 20 else { throw .invalidValue("max bins \(maxBins)") }
        self.init(maxBins: Int(maxBins))
        let sum = try reader.double()
        let count = try reader.double()
        guard count >= 0, count.isFinite else { throw .invalidValue("count \(count)") }
        let zero = try reader.count(integral: integral)
        self.addTotals(zeroCount: zero, sum: sum)
        for negative in [false, true] {
            let binCount = try reader.varint()
            guard binCount <= 1 << 20 else { throw .invalidValue("bin count \(binCount)") }
            var index = 0
            for _ in 0..<binCount {
                let zigzag = try reader.varint()
                let delta = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
                let (next, overflow) = index.addingReportingOverflow(Int(delta))
                guard !overflow, abs(next) <= 1 << 24 else { throw .invalidValue("bin index out of range") }
                index = next
                let binCount = try reader.count(integral: integral)
                guard binCount >= 0, binCount.isFinite else { throw .invalidValue("bin count \(binCount)") }
                self.addBin(index: index, count: binCount, negative: negative)
            }
        }
        guard reader.isAtEnd else { throw .invalidValue("\(bytes.count - reader.offset) trailing bytes") }
        // The stored total, not the re-added one: summing weighted bins in another order rounds differently.
        self.count = count
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    private static func appendDouble(_ value: Double, to bytes: inout [UInt8]) {
        var bits = value.bitPattern
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
    }

    private static func appendCount(_ value: Double, integral: Bool, to bytes: inout [UInt8]) {
        if integral {
            self.appendVarint(UInt64(value), to: &bytes)
        } else {
            self.appendDouble(value, to: &bytes)
        }
    }
}

private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    var isAtEnd: Bool { self.offset == self.bytes.count }

    mutating func byte() throws(SketchDecodingError) -> UInt8 {
        guard self.offset < self.bytes.count else { throw .truncated(at: self.offset) }
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    mutating func varint() throws(SketchDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try self.byte()
            guard shift < 64 else { throw .invalidValue("varint longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func double() throws(SketchDecodingError) -> Double {
        var bits: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) {
            bits |= UInt64(try self.byte()) << UInt64(shift)
        }
        return Double(bitPattern: bits)
    }

    mutating func count(integral: Bool) throws(SketchDecodingError) -> Double {
        integral ? Double(try self.varint()) : try self.double()
    }
}
