import TallyRedis

/// Checks an `Authorization: Bearer …` header against the configured token in
/// time that does not depend on where the two first differ.
public struct BearerToken: Sendable {
    private let expected: [UInt8]
    /// A digest of the token that scopes what its clients record (idempotency keys), so the
    /// token itself is never stored.
    public let scope: String

    public init(_ token: String) {
        self.expected = Array(token.utf8)
        self.scope = String(SHA1.hexDigest(token.utf8).prefix(16))
    }

    public func accepts(authorization header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.utf8.dropFirst("Bearer ".utf8.count))
        var difference = UInt8(given.count == self.expected.count ? 0 : 1)
        for index in 0..<self.expected.count {
            let byte = index < given.count ? given[index] : 0
            difference |= byte ^ self.expected[index]
        }
        return difference == 0
    }
}
