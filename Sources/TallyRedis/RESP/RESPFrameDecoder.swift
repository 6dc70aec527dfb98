import NIOCore

/// The inbound half of the protocol: turns bytes into `RESPFrame`s.
///
/// Handles any split of the stream (an incomplete frame waits for more
/// bytes); malformed input is reported through `errorCaught` as a
/// `RESPDecodingError`, after which the connection must be closed.
///
/// Frames go straight to the connection's ``RedisCommandHandler`` (the next
/// handler, on the same event loop) rather than through the pipeline: that
/// would box each reply in `NIOAny` and cast it back, per reply.
struct RESPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPFrame

    let limits: RESPLimits
    let commands: RedisCommandHandler

    init(limits: RESPLimits = .default, deliveringTo commands: RedisCommandHandler) {
        self.limits = limits
        self.commands = commands
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try RESPParser.parseFrame(&buffer, limits: limits) else { return .needMoreData }
        commands.received(frame)
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
