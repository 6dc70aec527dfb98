/// A circuit breaker's state, as `websocket_circuit_breaker_state` encodes it.
public enum CircuitBreakerState: String, Sendable, CaseIterable {
    case closed
    case halfOpen = "half_open"
    case open

    /// 0 closed, 1 half-open, 2 open.
    public var gaugeValue: Double {
        switch self {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        }
    }
}
