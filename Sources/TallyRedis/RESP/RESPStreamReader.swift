import NIOCore

/// A pull-style RESP reader over bytes fed in arbitrary pieces; the same
/// parser as the channel decoder, for tools and tests that are not a channel.
public struct RESPStreamReader: Sendable {
    private var buffer = ByteBuffer()
    private let limits: RESPLimits

    public init(limits: RESPLimits = .default) {
        self.limits = limits
    }

    /// Appends bytes received from the peer.
    public mutating func feed(_ bytes: ByteBuffer) {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    /// The next complete frame, `nil` when more bytes are needed; throws on malformed input.
    public mutating func next() throws -> RESPFrame? {
        let frame = try RESPParser.parseFrame(&buffer, limits: limits)
        if buffer.readableBytes == 0 { buffer.clear() }
        return frame
    }

    /// Bytes received but not yet part of a complete frame.
    public var pendingBytes: Int { buffer.readableBytes }

    /// Declares the end of the input: throws `.truncated` when it stopped inside a frame.
    public func finish() throws {
        if buffer.readableBytes > 0 { throw RESPDecodingError.truncated(pendingBytes: buffer.readableBytes) }
    }
}
