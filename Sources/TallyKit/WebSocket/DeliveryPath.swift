/// How a message reached its client, the `path` of `message_delivery_latency_seconds`.
public enum DeliveryPath: String, Sendable, CaseIterable {
    /// Sent at once to a connected client.
    case direct
    /// Queued while the client was not connected, delivered when it came back.
    case queued
    /// Delivered after one or more retries.
    case retried
}
