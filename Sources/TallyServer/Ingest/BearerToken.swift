import TallyRedis

/// Checks an `Authorization: Bearer …` header against the configured token in
/// time that does not depend on where the two first differ.
///
/// The scheme is case-insensitive (`Bearer`, `bearer`, `BEARER`; RFC 9110
/// §11.1) and separated from the token by one or more spaces; the token itself
/// is compared exactly.
package struct BearerToken: Sendable {
    private let expected: [UInt8]
    /// A digest of the token that scopes what its clients record (idempotency keys), so the
    /// token itself is never stored.
    public let scope: String

    public init(_ token: String) {
        self.expected = Array(token.utf8)
        self.scope = String(SHA1.hexDigest(token.utf8).prefix(16))
    }

    public func accepts(authorization header: String?) -> Bool {
        guard let header else { return false }
        let bytes = Array(header.utf8)
        let scheme = Array("bearer".utf8)
        guard bytes.count > scheme.count,
              zip(bytes, scheme).allSatisfy({ Self.lowercased($0) == $1 }),
              bytes[scheme.count] == UInt8(ascii: " ")
        else { return false }
        let given = Array(bytes[scheme.count...].drop { $0 == UInt8(ascii: " ") })
        var difference = UInt8(given.count == self.expected.count ? 0 : 1)
        for index in 0..<self.expected.count {
            let byte = index < given.count ? given[index] : 0
            difference |= byte ^ self.expected[index]
        }
        return difference == 0
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}
