import NIOSSL

/// TLS for a Redis connection (`rediss://`): whom to trust, which certificate to present, and
/// which name to verify. Verification is on by default; a server whose certificate does not chain
/// to the trusted roots, or does not name the host, is refused before any command is sent.
public struct RedisTLSConfiguration: Sendable, Hashable {
    /// How much of the server's certificate is checked.
    public enum Verification: Sendable, Hashable {
        /// The chain and the name (the host, or ``serverName``; an IP address against the
        /// certificate's IP SANs). The default.
        case full
        /// The chain only: for servers reached by a name their certificate does not carry.
        case chainOnly
        /// Nothing: the connection is encrypted but the server is not authenticated.
        case none
    }

    /// PEM file of the certificate authorities to trust; nil trusts the system's roots.
    public var caFile: String?
    /// PEM file of the client certificate (chain) to present, for servers that require one.
    public var certificateFile: String?
    /// PEM file of the client certificate's private key.
    public var keyFile: String?
    /// The name sent as SNI and verified instead of the URL's host.
    public var serverName: String?
    public var verification: Verification

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil,
                verification: Verification = .full) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
        self.verification = verification
    }

    /// The NIOSSL context: reads the files now, so a missing or malformed one is a clear error at
    /// start-up, not a failed handshake later.
    func makeContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch verification {
        case .full: tls.certificateVerification = .fullVerification
        case .chainOnly: tls.certificateVerification = .noHostnameVerification
        case .none: tls.certificateVerification = .none
        }
        do {
            if let caFile {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            }
            switch (certificateFile, keyFile) {
            case (let certificate?, let key?):
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            case (nil, nil):
                break
            default:
                throw RedisError.tlsConfiguration(reason: "a client certificate needs both a certificate file and a key file")
            }
            return try NIOSSLContext(configuration: tls)
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError.tlsConfiguration(reason: "\(error) (CA \(caFile ?? "system roots"), certificate \(certificateFile ?? "none"), key \(keyFile ?? "none"))")
        }
    }

    /// The name to send as SNI for `host`: the override, or the host unless it is an IP address
    /// (then none is sent, and the certificate's IP SANs are checked against the address).
    func sniName(host: String) -> String? {
        if let serverName { return serverName }
        let isIPv4 = host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        return isIPv4 || host.contains(":") ? nil : host
    }
}
