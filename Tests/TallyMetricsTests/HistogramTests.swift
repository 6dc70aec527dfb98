import Testing
import TallyMetrics

@Suite struct HistogramTests {
    @Test func observationsLandInTheFirstBucketWhoseBoundHoldsThem() throws {
        let histogram = Histogram(options: try HistogramBuckets([1, 2, 5]))
        for value in [0.5, 1, 1.5, 2, 4.9, 5, 7, 100] {
            histogram.observe(value)
        }
        let snapshot = histogram.snapshot()
        // (−∞,1]: 0.5, 1 · (1,2]: 1.5, 2 · (2,5]: 4.9, 5 · +Inf: 7, 100
        #expect(snapshot.bucketCounts == [2, 2, 2, 2])
        #expect(snapshot.count == 8)
        #expect(abs(snapshot.sum - 121.9) < 1e-9)
    }

    @Test func binarySearchAgreesWithLinearScanForManyBuckets() throws {
        let bounds = (1...40).map { Double($0) * 0.25 }
        let histogram = Histogram(options: try HistogramBuckets(bounds))
        var expected = [Int64](repeating: 0, count: bounds.count + 1)
        var random = SeededRandomForTests(seed: 7)
        for _ in 0..<10_000 {
            let value = random.unit() * 12
            histogram.observe(value)
            expected[bounds.firstIndex { value <= $0 } ?? bounds.count] += 1
        }
        #expect(histogram.snapshot().bucketCounts == expected)
    }

    @Test func nanCountsInInfinityAndPoisonsTheSumAsInOtherClients() throws {
        let histogram = Histogram(options: try HistogramBuckets([1]))
        histogram.observe(.nan)
        let snapshot = histogram.snapshot()
        #expect(snapshot.bucketCounts == [0, 1])
        #expect(snapshot.sum.isNaN)
    }

    @Test func timerNanosecondsAreRecordedInSeconds() {
        let histogram = Histogram(options: .defaultSeconds)
        histogram.observe(nanoseconds: 30_000_000)
        #expect(histogram.snapshot().bucketCounts[3] == 1)  // (0.025, 0.05]
        #expect(abs(histogram.snapshot().sum - 0.03) < 1e-12)
    }

    @Test(arguments: [
        ([Double](), "at least one"),
        ([1, 1], "strictly increasing"),
        ([2, 1], "strictly increasing"),
        ([1, .infinity], "not finite"),
        ([.nan], "not finite"),
    ])
    func invalidBucketsAreRefusedWithTheReason(bounds: [Double], reason: String) {
        #expect {
            _ = try HistogramBuckets(bounds)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func exponentialAndLinearBucketsHaveTheRequestedBounds() throws {
        #expect(try HistogramBuckets.exponential(start: 0.001, factor: 10, count: 4).upperBounds.count == 4)
        #expect(try HistogramBuckets.linear(start: 1, width: 2, count: 3).upperBounds == [1, 3, 5])
        #expect(throws: MetricsRegistryError.self) { try HistogramBuckets.exponential(start: 0, factor: 2, count: 3) }
    }
}
