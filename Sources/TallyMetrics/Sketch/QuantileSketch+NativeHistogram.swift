/// A sketch as a Prometheus native histogram: its bins are the buckets of schema 6 exactly
/// (``LogarithmicMapping``: bin `i` holds (2^((i−1)/64), 2^(i/64)], as native bucket `i` does),
/// so the export loses nothing. Values below ``QuantileSketch/minIndexableValue`` are the zero bucket.
extension QuantileSketch {
    /// The native histogram schema whose buckets are the sketch's bins.
    public static let nativeHistogramSchema = 6
    /// The zero bucket's threshold: the magnitude below which the sketch counts a value as zero.
    public static var nativeZeroThreshold: Double { minIndexableValue }

    /// Empty buckets a span may hold before a new span starts (each costs a zero delta, a new span two fields).
    static let spanGapLimit = 2

    /// Writes the fields of a protobuf `Histogram` message for this sketch: integer counts while
    /// every count is a whole number, float counts (`sample_count_float`, `zero_count_float`,
    /// `positive_count`, …) when weighted counts have fractions.
    package func writeNativeHistogramFields(to writer: inout ProtobufWriter, createdAt: Double?) {
        let integral = Self.isWhole(count) && Self.isWhole(zeroCount)
            && positiveBins.values.allSatisfy(Self.isWhole) && negativeBins.values.allSatisfy(Self.isWhole)
        if integral {
            writer.uint64(ProtobufField.Histogram.sampleCount, UInt64(count))
        } else {
            writer.double(ProtobufField.Histogram.sampleCountFloat, count)
        }
        writer.double(ProtobufField.Histogram.sampleSum, sum)
        self.writeNativeBucketFields(to: &writer, integral: integral, maxBuckets: nil)
        if let createdAt { writer.timestamp(ProtobufField.Histogram.createdTimestamp, unixSeconds: createdAt) }
    }

    /// The schema, zero bucket and buckets of a native histogram (not its count and sum). With
    /// `maxBuckets`, the resolution is halved (schema 6 → 5 → … → −4, pairs of buckets merged)
    /// until each sign has at most that many populated buckets; without, the bins are written as they are.
    package func writeNativeBucketFields(to writer: inout ProtobufWriter, integral: Bool, maxBuckets: Int?) {
        var schema = Self.nativeHistogramSchema
        var positive = positiveBins
        var negative = negativeBins
        if let maxBuckets {
            while max(positive.count, negative.count) > maxBuckets, schema > -4 {
                positive = Self.halved(positive)
                negative = Self.halved(negative)
                schema -= 1
            }
        }
        writer.sint64(ProtobufField.Histogram.schema, Int64(schema))
        writer.double(ProtobufField.Histogram.zeroThreshold, Self.nativeZeroThreshold)
        if integral {
            writer.uint64(ProtobufField.Histogram.zeroCount, UInt64(zeroCount))
        } else {
            writer.double(ProtobufField.Histogram.zeroCountFloat, zeroCount)
        }
        Self.writeBuckets(negative, integral: integral, to: &writer,
                          span: ProtobufField.Histogram.negativeSpan, delta: ProtobufField.Histogram.negativeDelta, count: ProtobufField.Histogram.negativeCount)
        Self.writeBuckets(positive, integral: integral, to: &writer,
                          span: ProtobufField.Histogram.positiveSpan, delta: ProtobufField.Histogram.positiveDelta, count: ProtobufField.Histogram.positiveCount)
    }

    /// Buckets at one schema lower: bucket `i` becomes `⌈i / 2⌉`, which holds buckets `2j − 1` and `2j`.
    static func halved(_ bins: [Int: Double]) -> [Int: Double] {
        var result: [Int: Double] = [:]
        result.reserveCapacity(bins.count / 2 + 1)
        for (index, count) in bins {
            result[-((-index) >> 1), default: 0] += count
        }
        return result
    }

    static func isWhole(_ value: Double) -> Bool {
        value >= 0 && value < 0x1p53 && value.rounded(.down) == value
    }

    /// Spans (offset from the end of the previous span, length) and, bucket by bucket, the count as a
    /// delta from the previous bucket's (integer counts) or the count itself (float counts).
    static func writeBuckets(_ bins: [Int: Double], integral: Bool, to writer: inout ProtobufWriter, span spanField: Int, delta deltaField: Int, count countField: Int) {
        guard !bins.isEmpty else { return }
        let indexes = bins.keys.sorted()
        // Spans first (every span field, then every count), as the format lays them out.
        var spans: [(offset: Int, length: Int)] = []
        var spanStart = indexes[0]
        var previous = indexes[0]
        var previousSpanEnd = 0
        for index in indexes.dropFirst() {
            if index - previous - 1 > spanGapLimit {
                spans.append((spanStart - previousSpanEnd, previous - spanStart + 1))
                previousSpanEnd = previous + 1
                spanStart = index
            }
            previous = index
        }
        spans.append((spanStart - previousSpanEnd, previous - spanStart + 1))
        for span in spans {
            let message = writer.beginMessage(spanField)
            writer.sint64(ProtobufField.BucketSpan.offset, Int64(span.offset))
            writer.uint64(ProtobufField.BucketSpan.length, UInt64(span.length))
            writer.endMessage(message)
        }
        var position = 0
        var last: Int64 = 0
        for span in spans {
            position += span.offset
            for index in position..<(position + span.length) {
                let count = bins[index] ?? 0
                if integral {
                    let value = Int64(count)
                    writer.sint64(deltaField, value &- last)
                    last = value
                } else {
                    writer.double(countField, count)
                }
            }
            position += span.length
        }
    }
}
