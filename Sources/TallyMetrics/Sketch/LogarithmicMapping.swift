/// Maps positive values to logarithmic bins of ratio γ = 2^(1/64).
///
/// Bin `i` holds values in (γ^(i-1), γ^i], the bucket boundaries of Prometheus
/// native histograms with schema 6. Representing a bin by 2γ^i/(γ+1) keeps the
/// relative error of every value in it below (γ-1)/(γ+1) ≈ 0.54 %. The index is
/// computed exactly from the float's exponent and a table of the 64 boundaries
/// within one octave, without calling `log`.
public enum LogarithmicMapping {
    /// Bins per power of two.
    public static let binsPerOctave = 64
    public static let gamma: Double = Double.exp2(1.0 / 64.0)
    /// The largest relative error of a value estimated from its bin.
    public static let relativeAccuracy: Double = (gamma - 1) / (gamma + 1)

    /// 2^(k/64) for k = 0…64.
    @usableFromInline
    static let octaveBoundaries: [Double] = (0...64).map { Double.exp2(Double($0) / 64.0) }

    /// For each of 256 slices of the mantissa range [1, 2): the number of
    /// boundaries below the slice's smallest mantissa. Slices are narrower than
    /// the gap between two boundaries, so at most one more comparison is needed.
    @usableFromInline
    static let sliceStart: [UInt8] = (0..<256).map { slice in
        let mantissa = 1.0 + Double(slice) / 256.0
        return UInt8(octaveBoundaries.prefix(64).filter { $0 < mantissa }.count)
    }

    /// The bin of a positive, finite, normal value.
    @inlinable
    public static func index(of value: Double) -> Int {
        let exponent = Int(value.exponent)
        let mantissa = value.significand  // in [1, 2)
        let slice = Int(truncatingIfNeeded: (value.significandBitPattern >> 44) & 0xFF)
        var k = Int(self.sliceStart[slice])
        // k counts the boundaries strictly below the mantissa.
        while k < 64, self.octaveBoundaries[k] < mantissa {
            k &+= 1
        }
        return exponent &* 64 &+ k
    }

    /// The upper boundary of bin `index`: γ^index.
    public static func upperBound(of index: Int) -> Double {
        let octave = index >> 6  // floor division for negatives too
        let within = index & 63
        return Double.exp2(Double(octave)) * self.octaveBoundaries[within]
    }

    /// The value that represents bin `index` with the least relative error.
    public static func representative(of index: Int) -> Double {
        2 * self.upperBound(of: index) / (self.gamma + 1)
    }
}

extension Double {
    @usableFromInline
    static func exp2(_ x: Double) -> Double {
        #if canImport(Glibc)
        return Glibc.exp2(x)
        #else
        return Darwin.exp2(x)
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
