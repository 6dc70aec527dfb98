import TallyMetrics

/// Standard buckets of the kit's histograms; fixed so every instance of a
/// type shares one family definition.
public enum KitBuckets {
    /// Database queries, cache calls and connection acquisition: 0.5 ms … 10 s.
    public static let fastSeconds = try! HistogramBuckets([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
    /// Remote API calls (LLM): 50 ms … 5 min.
    public static let slowSeconds = try! HistogramBuckets([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300])
    /// Time in a queue: 1 ms … 10 min.
    public static let waitSeconds = try! HistogramBuckets([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600])
    /// Message sizes: 64 B … 16 MiB, ×4.
    public static let messageBytes = try! HistogramBuckets.exponential(start: 64, factor: 4, count: 10)
}
