import CTallyAtomics

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
    package static let octaveBoundaries: [Double] = (0...64).map { Double.exp2(Double($0) / 64.0) }

    /// The bin of a positive, finite, normal value, from the float's bits alone: its exponent,
    /// and its mantissa compared with the mantissas of the 64 boundaries of an octave (tables in
    /// `CTallyAtomics`, constant data: no lazy initialisation or reference counting when recording).
    @inlinable
    public static func index(of value: Double) -> Int {
        Int(c_tally_log_bin_index(value))
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
