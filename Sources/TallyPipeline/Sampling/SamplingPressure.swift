/// Where an ``AdaptiveSampler`` reads its pressure: a fill fraction, 0 when
/// idle, 1 at the configured limit, above 1 past it.
public protocol SamplingPressure: Sendable {
    /// The current fill fraction; a throw leaves the probability unchanged.
    func fillFraction() async throws -> Double
}

/// The log's lag (entries not yet delivered to the workers) relative to the
/// largest lag the operator accepts: `lag / maxLag`.
public struct LogLagPressure: SamplingPressure {
    public let log: any EventLog
    public let maxLag: Int

    public init(log: any EventLog, maxLag: Int) {
        self.log = log
        self.maxLag = max(1, maxLag)
    }

    public func fillFraction() async throws -> Double {
        Double(try await log.figures().lag) / Double(maxLag)
    }
}

/// Pressure from any function, e.g. a bounded buffer's `fillFraction`.
public struct FunctionPressure: SamplingPressure {
    let body: @Sendable () async throws -> Double

    public init(_ body: @escaping @Sendable () async throws -> Double) {
        self.body = body
    }

    public func fillFraction() async throws -> Double {
        try await body()
    }
}
