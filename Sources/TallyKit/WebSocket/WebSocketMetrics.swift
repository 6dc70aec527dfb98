import TallyCore
import TallyMetrics

/// The WebSocket facade: connections, messages, retries and their outcomes,
/// end-to-end delivery latency by path, errors and the circuit breaker, under
/// the `websocket_*` and `message_delivery_latency_seconds` names in
/// `docs/metrics.md`.
///
/// Open connections are one gauge, never a per-conversation series;
/// disconnect reasons, failure reasons and error kinds are declared sets
/// (anything else is `__overflow__`). Every series is resolved at init, so a
/// `record…` call is a few lock-free, allocation-free updates and exact: no
/// sampling, no buffering. Thread-safe.
public struct WebSocketMetrics: Sendable {
    public static let defaultDisconnectReasons = ["normal", "going_away", "timeout", "error", "server_shutdown"]
    public static let defaultFailureReasons = ["not_connected", "send_error", "timeout", "oversized", "circuit_open"]
    public static let defaultErrorKinds = ["protocol", "connection", "handshake", "decode"]

    @usableFromInline let connections: Gauge
    @usableFromInline let opened: Counter
    @usableFromInline let sent: Counter
    @usableFromInline let queued: Counter
    @usableFromInline let retries: Counter
    @usableFromInline let retriedDelivered: Counter
    @usableFromInline let retriedFailed: Counter
    let deliveryLatency: [DeliveryPath: Histogram]
    @usableFromInline let sizes: Histogram
    @usableFromInline let oversized: Counter
    @usableFromInline let breakerState: Gauge
    @usableFromInline let maxMessageBytes: Int
    let disconnections: [String: Counter]
    let failures: [String: Counter]
    let errors: [String: Counter]
    let transitions: [CircuitBreakerState: Counter]

    /// - Parameter maxMessageBytes: messages larger than this count in `websocket_messages_oversized_total`.
    public init(registry: MetricsRegistry, maxMessageBytes: Int = 1 << 20,
                disconnectReasons: [String] = Self.defaultDisconnectReasons,
                failureReasons: [String] = Self.defaultFailureReasons,
                errorKinds: [String] = Self.defaultErrorKinds) throws {
        self.maxMessageBytes = maxMessageBytes
        connections = try registry.register(Gauge.self, name: "websocket_connections", help: "Open WebSocket connections (one gauge, never per conversation).")
        opened = try registry.register(Counter.self, name: "websocket_connections_opened_total", help: "WebSocket connections accepted.")
        sent = try registry.register(Counter.self, name: "websocket_messages_sent_total", help: "WebSocket messages delivered.")
        queued = try registry.register(Counter.self, name: "websocket_messages_queued_total", help: "Messages queued for a client that was not connected.")
        retries = try registry.register(Counter.self, name: "websocket_message_retries_total", help: "WebSocket message delivery retries.")
        let retried = try registry.registerFamily(Counter.self, name: "websocket_retried_messages_total", help: "Messages that needed at least one retry, by final outcome.",
                                                  labelNames: ["outcome"], maxSeries: 2)
        retriedDelivered = retried.labels("delivered")
        retriedFailed = retried.labels("failed")
        let latency = try registry.registerFamily(Histogram.self, name: "message_delivery_latency_seconds", help: "End-to-end message delivery latency, from send to delivered, by path.",
                                                  labelNames: ["path"], options: KitBuckets.waitSeconds, maxSeries: DeliveryPath.allCases.count)
        var byPath: [DeliveryPath: Histogram] = [:]
        for path in DeliveryPath.allCases { byPath[path] = latency.labels(path.rawValue) }
        deliveryLatency = byPath
        sizes = try registry.register(Histogram.self, name: "websocket_message_size_bytes", help: "WebSocket message sizes.", options: KitBuckets.messageBytes)
        oversized = try registry.register(Counter.self, name: "websocket_messages_oversized_total", help: "WebSocket messages over the configured size limit.")
        breakerState = try registry.register(Gauge.self, name: "websocket_circuit_breaker_state", help: "Circuit breaker state: 0 closed, 1 half-open, 2 open.")
        disconnections = try Self.declared(registry, name: "websocket_disconnections_total", help: "WebSocket connections closed, by reason.", label: "reason", values: disconnectReasons)
        failures = try Self.declared(registry, name: "websocket_messages_failed_total", help: "WebSocket messages that could not be delivered, by reason.", label: "reason", values: failureReasons)
        errors = try Self.declared(registry, name: "websocket_errors_total", help: "WebSocket protocol and connection errors, by kind.", label: "kind", values: errorKinds)
        let transitions = try registry.registerFamily(Counter.self, name: "websocket_circuit_breaker_transitions_total", help: "Circuit breaker state changes, by new state.",
                                                      labelNames: ["to"], maxSeries: CircuitBreakerState.allCases.count)
        var byState: [CircuitBreakerState: Counter] = [:]
        for state in CircuitBreakerState.allCases { byState[state] = transitions.labels(state.rawValue) }
        self.transitions = byState
    }

    private static func declared(_ registry: MetricsRegistry, name: String, help: String, label: String, values: [String]) throws -> [String: Counter] {
        let declared = DeclaredLabelValues(values)
        let family = try registry.registerFamily(Counter.self, name: name, help: help, labelNames: [label], maxSeries: declared.values.count + 1)
        var series: [String: Counter] = [:]
        for value in declared.valuesWithOverflow { series[value] = family.labels(value) }
        return series
    }

    private static func lookup(_ series: [String: Counter], _ value: String) -> Counter {
        series[value] ?? series[KitLabels.overflow]!
    }

    // MARK: connections

    /// A connection was accepted.
    @inlinable
    public func recordConnection() {
        opened.increment()
        connections.add(1)
    }

    /// A connection closed for `reason` (a declared reason, else `__overflow__`).
    public func recordDisconnection(reason: String = "normal") {
        Self.lookup(disconnections, reason).increment()
        connections.add(-1)
    }

    // MARK: messages

    /// A message was delivered; its size goes to the size histogram (and the oversized count past the limit).
    @inlinable
    public func recordMessageSent(bytes: Int) {
        sent.increment()
        recordMessageSize(bytes: bytes)
    }

    /// A message was delivered (size unknown).
    @inlinable
    public func recordMessageSent() {
        sent.increment()
    }

    /// A message's size, without counting it as sent (for example on receipt).
    @inlinable
    public func recordMessageSize(bytes: Int) {
        sizes.observe(Double(bytes))
        if bytes > maxMessageBytes { oversized.increment() }
    }

    /// A message was queued for a client that was not connected.
    @inlinable
    public func recordMessageQueued() {
        queued.increment()
    }

    /// A message could not be delivered.
    public func recordMessageFailed(reason: String) {
        Self.lookup(failures, reason).increment()
    }

    /// One delivery retry.
    @inlinable
    public func recordRetryAttempt() {
        retries.increment()
    }

    /// A message that needed at least one retry reached its final outcome: delivered, or given up.
    @inlinable
    public func recordRetryOutcome(delivered: Bool) {
        (delivered ? retriedDelivered : retriedFailed).increment()
    }

    /// A message was delivered `latency` after it was sent, along `path`.
    public func recordDeliveryLatency(_ latency: Duration, path: DeliveryPath) {
        recordDeliveryLatency(seconds: latency.secondsValue, path: path)
    }

    /// A message was delivered `seconds` after it was sent, along `path`; a negative or NaN value is ignored.
    public func recordDeliveryLatency(seconds: Double, path: DeliveryPath) {
        guard seconds >= 0 else { return }
        deliveryLatency[path]?.observe(seconds)
    }

    /// A protocol or connection error of a declared kind.
    public func recordError(kind: String) {
        Self.lookup(errors, kind).increment()
    }

    // MARK: circuit breaker

    /// The circuit breaker moved to `state`: sets the state gauge and counts the transition.
    public func recordCircuitBreakerTransition(to state: CircuitBreakerState) {
        breakerState.set(state.gaugeValue)
        transitions[state]?.increment()
    }

    /// The circuit breaker opened.
    public func recordCircuitBreakerOpened() { recordCircuitBreakerTransition(to: .open) }
    /// The circuit breaker let a trial request through.
    public func recordCircuitBreakerHalfOpened() { recordCircuitBreakerTransition(to: .halfOpen) }
    /// The circuit breaker closed again.
    public func recordCircuitBreakerClosed() { recordCircuitBreakerTransition(to: .closed) }

    /// Open connections now.
    public var openConnections: Double { connections.value }
}
