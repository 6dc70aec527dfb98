import NIOCore

/// The inbound half of the protocol: turns bytes into `RESPFrame`s.
///
/// Handles any split of the stream (an incomplete frame waits for more
/// bytes); malformed input is reported through `errorCaught` as a
/// `RESPDecodingError`, after which the connection must be closed.
struct RESPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPFrame

    let limits: RESPLimits

    init(limits: RESPLimits = .default) {
        self.limits = limits
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try RESPParser.parseFrame(&buffer, limits: limits) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if case .continue = try decode(context: context, buffer: &buffer) { return .continue }
        if seenEOF && buffer.readableBytes > 0 {
            // The peer closed mid-frame: report it instead of silently dropping the bytes.
            let pending = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: pending)
            throw RESPDecodingError.truncated(pendingBytes: pending)
        }
        return .needMoreData
    }
}

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
