import Synchronization

/// Sheds load at ingest when the workers fall behind, without biasing the metrics.
///
/// While the log's lag is at most `maxLag` every event is kept (probability
/// 1). Beyond it, completions, tool calls and errors are kept with probability
/// `p = max(minimumProbability, maxLag / lag)` and stored with weight `1/p`,
/// so every count, ratio and quantile stays an unbiased estimate; session
/// starts and ends are always kept. Thread-safe; the random source is seeded,
/// so a test can reproduce a run.
public final class AdaptiveSampler: Sendable {
    public let maxLag: Int
    public let minimumProbability: Double
    private let state: Mutex<(probability: Double, random: SplitMix)>

    public init(maxLag: Int = 100_000, minimumProbability: Double = 0.01, seed: UInt64 = 0x7A11_7A11) {
        self.maxLag = max(1, maxLag)
        self.minimumProbability = min(1, max(1e-6, minimumProbability))
        self.state = Mutex((1, SplitMix(state: seed)))
    }

    /// The current probability of keeping a sampled event.
    public var probability: Double { state.withLock { $0.probability } }

    /// Recomputes the probability from the log's current lag.
    public func update(lag: Int) {
        let p = lag <= maxLag ? 1 : max(minimumProbability, Double(maxLag) / Double(lag))
        state.withLock { $0.probability = p }
    }

    /// Updates the probability from the log's lag every `interval` until the task is cancelled.
    public func run(log: any EventLog, every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            if let figures = try? await log.figures() { update(lag: figures.lag) }
            try? await Task.sleep(for: interval)
        }
    }

    /// The records to append (kept events with their weight) and how many events were dropped.
    public func sample(_ events: [TelemetryEvent]) -> (records: [EventRecord], dropped: Int) {
        state.withLock { s in
            guard s.probability < 1 else { return (events.map { EventRecord(event: $0) }, 0) }
            var records: [EventRecord] = []
            records.reserveCapacity(events.count)
            for event in events {
                switch event.type {
                case .sessionStart, .sessionEnd:
                    records.append(EventRecord(event: event))
                case .completion, .toolCall, .error:
                    if s.random.unit() < s.probability {
                        records.append(EventRecord(event: event, weight: 1 / s.probability))
                    }
                }
            }
            return (records, events.count - records.count)
        }
    }
}

/// SplitMix64: a small seeded generator.
struct SplitMix: Sendable {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
