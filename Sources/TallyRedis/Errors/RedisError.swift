/// Everything TallyRedis throws, naming the command and, for server
/// replies, the server's own message so the cause is visible in logs.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with an error reply (`-ERR …`, `-WRONGTYPE …`, `-NOSCRIPT …`).
    case server(command: String, message: String)
    /// Authentication was refused during the handshake (wrong password, unknown user, auth required).
    case authenticationFailed(user: String?, message: String)
    /// The command's deadline passed; the connection was closed and every command in flight on it failed.
    case commandTimedOut(command: String, timeout: Duration, inFlight: Int)
    /// Another command's deadline passed on the same connection, which was therefore closed.
    case connectionTimedOut(command: String, timedOutCommand: String)
    /// The connection closed (or was closed) while the command was in flight or being sent.
    case connectionClosed(command: String, reason: String)
    /// Connecting (TCP/Unix connect plus handshake) did not finish within the connect timeout.
    case connectTimeout(endpoint: String, timeout: Duration)
    /// Connecting failed (refused, unreachable, unknown host…).
    case connectFailed(endpoint: String, reason: String)
    /// The reply stream was not valid RESP; the connection was closed.
    case protocolError(command: String, reason: String)
    /// The reply had a shape the typed helper did not expect.
    case unexpectedReply(command: String, reply: String)
    /// The URL could not be parsed.
    case invalidURL(String, reason: String)
    /// A command for a Redis Cluster whose keys hash to different slots: no node could run it, so it
    /// was not sent. Keys that must go together share a `{hash tag}`.
    case crossSlot(command: String, keys: [String])
    /// The cluster's topology could not be read from any seed or known node, or no node serves the slot.
    case clusterUnavailable(reason: String)
    /// The TLS configuration cannot be used (a file missing or malformed, a certificate without its key).
    case tlsConfiguration(reason: String)
    /// The TLS handshake with the server failed (an untrusted or misnamed certificate, a client
    /// certificate the server requires and did not get); no command was sent.
    case tlsHandshakeFailed(endpoint: String, reason: String)
    /// The pool was shut down.
    case poolClosed(command: String)
    /// No connection could be leased within the pool's `leaseTimeout`; the command was not sent.
    case leaseTimedOut(command: String, waited: Duration)
    /// The server counts as down (its last connect failed) and the pool is backing off before
    /// it tries again; the command was not sent.
    case serverUnavailable(endpoint: String, reason: String, retryIn: Duration)

    /// The first word of a server error message (`ERR`, `WRONGTYPE`, `NOSCRIPT`, `BUSYGROUP`…), if this is one.
    public var serverErrorCode: String? {
        switch self {
        case .server(_, let message), .authenticationFailed(_, let message):
            return message.split(separator: " ", maxSplits: 1).first.map(String.init)
        default:
            return nil
        }
    }

    /// True when the command certainly never reached the server: the pool could not
    /// lease or open a connection for it. Other failures (a timeout, a connection lost
    /// mid-command) leave its effect unknown.
    public var wasNotSent: Bool {
        switch self {
        case .leaseTimedOut, .serverUnavailable, .poolClosed, .connectFailed, .connectTimeout, .authenticationFailed, .invalidURL,
             .tlsConfiguration, .tlsHandshakeFailed, .crossSlot:
            return true
        default:
            return false
        }
    }

    public var description: String {
        switch self {
        case .server(let command, let message):
            return "Redis \(command) failed: \(message)"
        case .authenticationFailed(let user, let message):
            return "Redis authentication as '\(user ?? "default")' failed: \(message) (check the user and password in the URL)"
        case .commandTimedOut(let command, let timeout, let inFlight):
            return "Redis \(command) got no reply within \(timeout); the connection was closed and its \(inFlight) in-flight command(s) failed"
        case .connectionTimedOut(let command, let other):
            return "Redis \(command) failed: \(other) on the same connection passed its deadline, so the connection was closed"
        case .connectionClosed(let command, let reason):
            return "Redis \(command) failed: connection closed (\(reason))"
        case .connectTimeout(let endpoint, let timeout):
            return "Connecting to Redis at \(endpoint) did not finish within \(timeout)"
        case .connectFailed(let endpoint, let reason):
            return "Connecting to Redis at \(endpoint) failed: \(reason)"
        case .protocolError(let command, let reason):
            return "Redis \(command) failed: invalid reply from the server, connection closed (\(reason))"
        case .unexpectedReply(let command, let reply):
            return "Redis \(command) returned an unexpected reply: \(reply.prefix(200))"
        case .invalidURL(let url, let reason):
            return "Invalid Redis URL '\(url)': \(reason)"
        case .crossSlot(let command, let keys):
            return "Redis \(command) was not sent: its keys \(keys.prefix(8).map { "'\($0)'" }.joined(separator: ", ")) hash to different cluster slots (give keys that go together one {hash tag})"
        case .clusterUnavailable(let reason):
            return "The Redis Cluster is unavailable: \(reason)"
        case .tlsConfiguration(let reason):
            return "The Redis TLS configuration cannot be used: \(reason)"
        case .tlsHandshakeFailed(let endpoint, let reason):
            return "The TLS handshake with Redis at \(endpoint) failed: \(reason) (check the CA file, the server's certificate and name, and the client certificate)"
        case .poolClosed(let command):
            return "Redis \(command) failed: the connection pool is closed"
        case .leaseTimedOut(let command, let waited):
            return "Redis \(command) was not sent: no connection could be had within \(waited)"
        case .serverUnavailable(let endpoint, let reason, let retryIn):
            return "Redis at \(endpoint) is unavailable (\(reason)); the pool tries again in \(retryIn)"
        }
    }
}
