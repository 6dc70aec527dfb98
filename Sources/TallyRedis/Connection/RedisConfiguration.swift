import Logging
import NIOCore

/// Where and how to connect: endpoint, TLS, credentials, database, client
/// name, protocol and timeouts. A plain value; build it directly or from a
/// URL with `init(url:)`, which rejects what it cannot honour instead of
/// silently ignoring it.
public struct RedisConfiguration: Sendable {
    /// A TCP host and port, or a Unix domain socket path.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unixSocket(let path): return "unix:\(path)"
            }
        }
    }

    /// The protocol the handshake asks for.
    public enum ProtocolPreference: Sendable, Hashable {
        /// `HELLO 3`, falling back to RESP2 (`AUTH`, `CLIENT SETNAME`) when the server refuses it.
        case resp3
        /// RESP2 only: no `HELLO`.
        case resp2
    }

    public var endpoint: Endpoint
    /// TLS on the TCP connection (`rediss://`); nil for plain TCP or a Unix socket.
    public var tls: RedisTLSConfiguration?
    /// ACL user; `nil` authenticates as `default` when a password is set.
    public var username: String?
    public var password: String?
    /// Logical database selected after connecting (`SELECT`), 0 by default.
    public var database: Int
    /// Sent as `CLIENT SETNAME` (visible in `CLIENT LIST`).
    public var clientName: String?
    public var protocolPreference: ProtocolPreference
    /// Bounds TCP/Unix connect plus the handshake.
    public var connectTimeout: Duration
    /// Default deadline of each command; when it passes, the connection is closed and everything in flight fails.
    public var commandTimeout: Duration
    /// Decoder bounds (nesting depth, bulk length, aggregate size).
    public var limits: RESPLimits
    /// Receives RESP3 push frames (client tracking invalidations…); they are logged and dropped when `nil`.
    public var onPush: (@Sendable ([RESPValue]) -> Void)?

    public init(
        endpoint: Endpoint,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        clientName: String? = nil,
        protocolPreference: ProtocolPreference = .resp3,
        connectTimeout: Duration = .seconds(5),
        commandTimeout: Duration = .seconds(10),
        limits: RESPLimits = .default,
        tls: RedisTLSConfiguration? = nil
    ) {
        self.endpoint = endpoint
        self.tls = tls
        self.username = username
        self.password = password
        self.database = database
        self.clientName = clientName
        self.protocolPreference = protocolPreference
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.limits = limits
        self.onPush = nil
    }

    /// Parses `redis://[user[:password]@]host[:port][/db]`, `rediss://…` (the same, over TLS with
    /// verification on, trusting the system's roots unless `tls` says otherwise) and
    /// `unix:///path/to.sock`; query items `db`, `user`, `password`, `name` are accepted by all.
    /// `tls` configures the TLS of a `rediss://` URL (CA, client certificate, server name); it is
    /// refused with a `redis://` or `unix://` URL rather than ignored.
    public init(url: String, tls: RedisTLSConfiguration? = nil) throws {
        try self.init(parsing: url)
        if let tls {
            guard self.tls != nil else {
                throw RedisError.invalidURL(Self.redacted(url), reason: "TLS options need a rediss:// URL")
            }
            self.tls = tls
        }
    }

    private init(parsing url: String) throws {
        let redacted = Self.redacted(url)
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw RedisError.invalidURL(redacted, reason: "expected redis://host:port or unix:///path")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = String(url[schemeEnd.upperBound...])
        var query: [String: String] = [:]
        if let q = rest.firstIndex(of: "?") {
            for item in rest[rest.index(after: q)...].split(separator: "&") {
                let parts = item.split(separator: "=", maxSplits: 1)
                query[String(parts[0])] = parts.count > 1 ? Self.percentDecode(parts[1]) : ""
            }
            rest = String(rest[..<q])
        }
        switch scheme {
        case "unix", "redis+unix":
            guard rest.hasPrefix("/"), rest.count > 1 else {
                throw RedisError.invalidURL(redacted, reason: "a Unix socket URL needs an absolute path: unix:///path/to/redis.sock")
            }
            self.init(endpoint: .unixSocket(path: Self.percentDecode(Substring(rest))))
        case "redis", "rediss":
            // The user info ends at the last `@` (a path never holds one), so a password with an
            // unencoded `@` or `/` is still read whole and never shown in an error.
            var user: String?
            var password: String?
            var hostAndPath = rest
            var userInfo: Substring?
            if let at = rest.lastIndex(of: "@") {
                userInfo = rest[..<at]
                hostAndPath = String(rest[rest.index(after: at)...])
            }
            var authority = hostAndPath
            var path = ""
            if let slash = hostAndPath.firstIndex(of: "/") {
                authority = String(hostAndPath[..<slash])
                path = String(hostAndPath[hostAndPath.index(after: slash)...])
            }
            if let userInfo {
                if let colon = userInfo.firstIndex(of: ":") {
                    let u = Self.percentDecode(userInfo[..<colon])
                    user = u.isEmpty ? nil : u
                    password = Self.percentDecode(userInfo[userInfo.index(after: colon)...])
                } else {
                    // `redis://secret@host` is commonly meant as a password alone.
                    password = Self.percentDecode(userInfo)
                }
            }
            var host = authority
            var port = 6379
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else {
                    throw RedisError.invalidURL(redacted, reason: "unterminated IPv6 address")
                }
                host = String(authority[authority.index(after: authority.startIndex)..<close])
                let after = authority[authority.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                        throw RedisError.invalidURL(redacted, reason: "invalid port '\(after.dropFirst())'")
                    }
                    port = p
                }
            } else if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                let portText = authority[authority.index(after: colon)...]
                guard let p = Int(portText), (1...65535).contains(p) else {
                    throw RedisError.invalidURL(redacted, reason: "invalid port '\(portText)'")
                }
                port = p
            }
            guard !host.isEmpty else { throw RedisError.invalidURL(redacted, reason: "missing host") }
            self.init(endpoint: .tcp(host: host, port: port), username: user, password: password,
                      tls: scheme == "rediss" ? RedisTLSConfiguration() : nil)
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else {
                    throw RedisError.invalidURL(redacted, reason: "the path must be a database number, got '/\(path)'")
                }
                self.database = db
            }
        default:
            throw RedisError.invalidURL(redacted, reason: "unknown scheme '\(scheme)'; use redis://, unix:// (rediss:// is not supported yet)")
        }
        if let db = query["db"] {
            guard let n = Int(db), n >= 0 else { throw RedisError.invalidURL(redacted, reason: "invalid db '\(db)'") }
            self.database = n
        }
        if let user = query["user"] { self.username = user }
        if let password = query["password"] { self.password = password }
        if let name = query["name"] { self.clientName = name }
    }

    /// The URL with its credentials replaced by `***`, safe for logs and errors:
    /// every `password=` query value, then everything between `://` and the
    /// URL's *last* `@` (user and password alike), so that a password holding
    /// an unencoded `@` (`redis://u:p@ss@host`) shows no part of itself. An `@`
    /// elsewhere in the query hides more than needed, never less.
    public static func redacted(_ url: String) -> String {
        var result = url
        var searchFrom = result.startIndex
        while let range = result[searchFrom...].firstRange(of: "password=") {
            let end = result[range.upperBound...].firstIndex(of: "&") ?? result.endIndex
            result.replaceSubrange(range.upperBound..<end, with: "***")
            searchFrom = result.index(range.upperBound, offsetBy: 3)
        }
        let start = result.firstRange(of: "://")?.upperBound ?? result.startIndex
        if let at = result[start...].lastIndex(of: "@") {
            result.replaceSubrange(start..<at, with: "***")
        }
        return result
    }

    private static func percentDecode(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2,
               let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
