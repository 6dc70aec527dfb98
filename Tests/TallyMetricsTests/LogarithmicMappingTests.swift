import Foundation
import TallyMetrics
import Testing

/// The bin index is computed from the float's bits with written-out tables of the boundaries'
/// mantissas: at every boundary, either side of it, and at random, the index is the one that
/// `exp2`'s boundaries define.
@Suite struct LogarithmicMappingTests {
    /// The bin by definition: the `i` with 2^((i−1)/64) < value ≤ 2^(i/64), from the exp2 boundaries.
    static func reference(_ value: Double) -> Int {
        let exponent = Int(value.exponent)
        let mantissa = value.significand
        let k = LogarithmicMapping.octaveBoundaries.prefix(64).filter { $0 < mantissa }.count
        return exponent * 64 + k
    }

    @Test func everyIndexIsTheOneTheBoundariesDefine() {
        var values: [Double] = []
        // Every boundary, and its neighbours, in several octaves (the exact edges of the bins).
        for octave in [-64, -10, -1, 0, 1, 7, 63] {
            for boundary in LogarithmicMapping.octaveBoundaries {
                let value = boundary * Double.exp2(Double(octave))
                values += [value, value.nextUp, value.nextDown]
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100_000 { values.append(Double.exp2(Double.random(in: -64...64, using: &generator))) }
        for value in values {
            #expect(LogarithmicMapping.index(of: value) == Self.reference(value), "\(value)")
        }
        #expect(LogarithmicMapping.index(of: 1) == 0)
        #expect(LogarithmicMapping.index(of: 2) == 64)
        #expect(LogarithmicMapping.index(of: 1.0.nextUp) == 1)
    }
}
extension Double {
    fileprivate static func exp2(_ x: Double) -> Double { Foundation.exp2(x) }
}
