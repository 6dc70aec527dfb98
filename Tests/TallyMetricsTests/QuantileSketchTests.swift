import Foundation
import Testing
import TallyMetrics
import TallyTesting

@Suite struct QuantileSketchTests {
    enum Distribution: String, CaseIterable, CustomTestStringConvertible {
        case uniform, lognormal, bimodal, heavyTail, mixedSigns

        var testDescription: String { self.rawValue }

        func sample(_ random: inout SeededRandom) -> Double {
            switch self {
            case .uniform: return 0.001 + random.unit() * 2
            case .lognormal: return exp(-3 + 1.2 * random.normal())
            case .bimodal: return random.unit() < 0.7 ? 0.02 + 0.005 * random.normal().magnitude : 1.5 + 0.3 * random.normal().magnitude
            case .heavyTail: return 0.01 / pow(max(random.unit(), 1e-12), 1 / 1.1)  // Pareto, α = 1.1
            case .mixedSigns: return random.normal() * 10
            }
        }
    }

    static let quantiles = [0.5, 0.9, 0.99, 0.999]

    @Test(arguments: Distribution.allCases)
    func quantilesAreWithinOnePercentOfTheExactValue(distribution: Distribution) {
        var random = SeededRandom(seed: 42)
        let values = (0..<200_000).map { _ in distribution.sample(&random) }
        var sketch = QuantileSketch()
        let summary = Summary(options: .default)
        for value in values {
            sketch.add(value)
            summary.observe(value)
        }
        let sorted = values.sorted()
        let live = summary.snapshot()
        for q in Self.quantiles {
            let exact = sorted[Int((q * Double(sorted.count - 1)).rounded(.down))]
            for (source, estimate) in [("sketch", sketch.quantile(q)!), ("summary", live.quantile(q)!)] {
                let error = abs(estimate - exact) / abs(exact)
                #expect(error <= 0.01, "\(source) \(distribution) p\(q): \(estimate) vs exact \(exact)")
                #expect(error <= LogarithmicMapping.relativeAccuracy + 1e-12, "beyond the sketch's own bound")
            }
        }
        #expect(live == sketch, "the lock-free summary holds exactly the bins of the value sketch")
    }

    @Test func mergedSketchesEqualOneSketchFedEverything() {
        var random = SeededRandom(seed: 9)
        var parts = [QuantileSketch](repeating: QuantileSketch(), count: 4)
        var whole = QuantileSketch()
        for i in 0..<40_000 {
            let value = Distribution.lognormal.sample(&random) * (i % 3 == 0 ? -1 : 1)
            parts[i % 4].add(value)
            whole.add(value)
        }
        var merged = QuantileSketch()
        for part in parts { merged.merge(part) }
        #expect(merged.positiveBins == whole.positiveBins)
        #expect(merged.negativeBins == whole.negativeBins)
        #expect(merged.count == whole.count)
        #expect(abs(merged.sum - whole.sum) <= 1e-9 * abs(whole.sum))
        for q in Self.quantiles { #expect(merged.quantile(q) == whole.quantile(q)) }
    }

    @Test func serialisationRoundTripsIntegerAndWeightedCounts() throws {
        var random = SeededRandom(seed: 3)
        var sketch = QuantileSketch(maxBins: 512)
        var weighted = QuantileSketch()
        for _ in 0..<10_000 {
            let value = Distribution.mixedSigns.sample(&random)
            sketch.add(value)
            weighted.add(value, weight: 1 / 0.03)
        }
        sketch.add(0)
        for original in [sketch, weighted, QuantileSketch()] {
            let bytes = original.serialized()
            let decoded = try QuantileSketch(serialized: bytes)
            #expect(decoded == original)
        }
        #expect(sketch.serialized().count < 8 * sketch.binCount, "compact: a few bytes per bin")
    }

    @Test func corruptOrTruncatedBytesThrowInsteadOfCrashing() throws {
        var sketch = QuantileSketch()
        for value in [0.1, 0.2, 5.0, -3.0] { sketch.add(value) }
        let bytes = sketch.serialized()
        for length in 0..<bytes.count {
            #expect(throws: SketchDecodingError.self) { try QuantileSketch(serialized: Array(bytes.prefix(length))) }
        }
        #expect(throws: SketchDecodingError.unsupportedVersion(9)) { try QuantileSketch(serialized: [9] + bytes.dropFirst()) }
        #expect(throws: SketchDecodingError.self) { try QuantileSketch(serialized: bytes + [0]) }
        var random = SeededRandom(seed: 11)
        for _ in 0..<5_000 {
            let noise = (0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? QuantileSketch(serialized: noise)
        }
    }

    @Test func binCountStaysBoundedAndUpperQuantilesStayAccurate() {
        var sketch = QuantileSketch(maxBins: 128)
        var values: [Double] = []
        var x = 1e-9
        while x < 1e9 {  // 18 decades: far more than 128 bins
            sketch.add(x)
            values.append(x)
            x *= 1.003
        }
        #expect(sketch.positiveBins.count <= 128)
        #expect(sketch.count == Double(values.count))
        let exact = values[Int(0.99 * Double(values.count - 1))]
        #expect(abs(sketch.quantile(0.99)! - exact) / exact <= 0.01)
    }

    @Test func weightedValuesShiftQuantilesByTheirWeight() {
        var sketch = QuantileSketch()
        sketch.add(1.0, weight: 1)
        sketch.add(100.0, weight: 99)
        #expect(abs(sketch.quantile(0.5)! - 100) / 100 <= 0.0055)
        #expect(sketch.count == 100)
    }

    @Test func emptyAndInvalidInputsAreHandled() {
        var sketch = QuantileSketch()
        #expect(sketch.quantile(0.5) == nil)
        sketch.add(.nan)
        sketch.add(1, weight: 0)
        sketch.add(1, weight: .infinity)
        #expect(sketch.isEmpty)
        sketch.add(0)
        sketch.add(1e300)
        #expect(sketch.quantile(0) == 0)
        #expect(sketch.quantile(2) == nil)
        #expect(sketch.quantile(1)! > 1e19, "magnitudes past 2^64 clamp to the top bin")
    }

    @Test func binIndexMatchesTheLogarithmDefinition() {
        var random = SeededRandom(seed: 5)
        for _ in 0..<100_000 {
            let value = exp((random.unit() - 0.5) * 80)
            let index = LogarithmicMapping.index(of: value)
            #expect(LogarithmicMapping.upperBound(of: index - 1) < value || abs(LogarithmicMapping.upperBound(of: index - 1) / value - 1) < 1e-14)
            #expect(value <= LogarithmicMapping.upperBound(of: index) * (1 + 1e-14))
        }
        // Powers of two sit exactly on a boundary: 2^k is the top of bin 64k.
        #expect(LogarithmicMapping.index(of: 1) == 0)
        #expect(LogarithmicMapping.index(of: 2) == 64)
        #expect(LogarithmicMapping.index(of: 0.5) == -64)
        #expect(LogarithmicMapping.relativeAccuracy < 0.0055)
    }
}
