import DequeModule
import Logging
import NIOCore

/// Matches replies to commands on one connection, in order.
///
/// Owns the queue of pending replies: every command or batch written gets an
/// entry, reply frames complete the oldest entry (a batch after its last
/// reply), push frames go to the push callback and never complete a command.
/// When any command's deadline passes, every entry fails and the channel is
/// closed (a reply stream cannot be resynchronised). An entry whose caller
/// gave up (cancellation) stays in the queue so its reply is still consumed
/// and discarded. Event-loop bound: every method runs on the channel's event
/// loop.
final class RedisCommandHandler: ChannelInboundHandler {
    typealias InboundIn = RESPFrame
    typealias OutboundOut = ByteBuffer

    /// The command or commands of an entry (kept, a retain and no copy, so that a name is only
    /// computed when an error needs it) and who waits for the replies.
    private enum Completion {
        case single(RedisCommand, EventLoopPromise<RESPValue>)
        case batch([RedisCommand], BatchReplies)
    }

    /// One command, or one whole batch: a batch is one entry, completed when its last reply is in.
    private struct Pending {
        let deadline: NIODeadline
        let timeout: Duration
        let completion: Completion

        /// The command whose reply comes next.
        var name: String {
            switch completion {
            case .single(let command, _): command.name
            case .batch(let commands, let replies): commands[min(replies.values.count, commands.count - 1)].name
            }
        }

        /// How many of its commands still wait for a reply.
        var waiting: Int {
            switch completion {
            case .single: 1
            case .batch(let commands, let replies): commands.count - replies.values.count
            }
        }
    }

    /// Collects the replies of one batch; error replies are kept as `.error` values.
    private final class BatchReplies {
        /// Touched only on the connection's event loop, one access at a time: no runtime
        /// exclusivity check per reply.
        @exclusivity(unchecked) var values: [RESPValue]
        let expected: Int
        let promise: EventLoopPromise<[RESPValue]>

        init(expected: Int, promise: EventLoopPromise<[RESPValue]>) {
            self.expected = expected
            self.promise = promise
            self.values = []
            self.values.reserveCapacity(expected)
        }
    }

    private var context: ChannelHandlerContext?
    /// The handler runs on one event loop and never touches `pending` re-entrantly, so the runtime
    /// exclusivity check, paid per command and per reply, is left out.
    @exclusivity(unchecked) private var pending: Deque<Pending> = []
    private var closedError: ((String) -> RedisError)?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private let logger: Logger
    private let onPush: (@Sendable ([RESPValue]) -> Void)?

    init(logger: Logger, onPush: (@Sendable ([RESPValue]) -> Void)?) {
        self.logger = logger
        self.onPush = onPush
    }

    /// How many commands are waiting for a reply.
    var inFlight: Int { pending.reduce(0) { $0 + $1.waiting } }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll { .connectionClosed(command: $0, reason: "the connection's handler was removed") }
        self.context = nil
    }

    // MARK: sending

    func send(_ command: RedisCommand, timeout: Duration, promise: EventLoopPromise<RESPValue>) {
        guard let context, closedError == nil else {
            promise.fail(closedError?(command.name) ?? .connectionClosed(command: command.name, reason: "not connected"))
            return
        }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        pending.append(Pending(deadline: deadline, timeout: timeout, completion: .single(command, promise)))
        armTimer(deadline)
        var buffer = context.channel.allocator.buffer(capacity: 64)
        RESPEncoder.encode(command, into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func send(batch commands: [RedisCommand], timeout: Duration, promise: EventLoopPromise<[RESPValue]>) {
        guard !commands.isEmpty else {
            promise.succeed([])
            return
        }
        guard let context, closedError == nil else {
            promise.fail(closedError?(commands[0].name) ?? .connectionClosed(command: commands[0].name, reason: "not connected"))
            return
        }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let replies = BatchReplies(expected: commands.count, promise: promise)
        var buffer = context.channel.allocator.buffer(capacity: 256)
        for (index, command) in commands.enumerated() {
            RESPEncoder.encode(command, into: &buffer)
            if index == 0 {
                // Batches are usually uniform: size the buffer once from the first command.
                buffer.reserveCapacity(buffer.writerIndex * commands.count + 256)
            }
        }
        pending.append(Pending(deadline: deadline, timeout: timeout, completion: .batch(commands, replies)))
        armTimer(deadline)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    // MARK: receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received(unwrapInboundIn(data))
    }

    /// A frame from the decoder, which calls this directly (see ``RESPFrameDecoder``).
    func received(_ frame: RESPFrame) {
        switch frame {
        case .push(let elements):
            if let onPush {
                onPush(elements)
            } else {
                logger.debug("redis push frame ignored", metadata: ["kind": "\(elements.first?.string ?? "?")"])
            }
        case .reply(let value):
            guard let entry = pending.first else {
                logger.error("redis reply with no command in flight; closing the connection", metadata: ["reply": "\(value)"])
                if let context {
                    close(context: context) { .protocolError(command: $0, reason: "reply received with no command in flight") }
                }
                return
            }
            switch entry.completion {
            case .single(_, let promise):
                pending.removeFirst()
                if case .error(let message) = value {
                    promise.fail(RedisError.server(command: entry.name, message: message))
                } else {
                    promise.succeed(value)
                }
            case .batch(_, let replies):
                replies.values.append(value)
                if replies.values.count == replies.expected {
                    pending.removeFirst()
                    replies.promise.succeed(replies.values)
                }
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if closedError == nil {
            closedError = { .connectionClosed(command: $0, reason: "the server closed the connection") }
        }
        if !pending.isEmpty {
            logger.warning("redis connection closed with commands in flight", metadata: ["in_flight": "\(inFlight)"])
        }
        failAll(closedError!)
        cancelTimer()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = "\(error)"
        // Whoever uses the connection next learns of it (commands in flight fail with this reason, a
        // later one finds the connection closed, and the pool replaces it), and reports it: here it is
        // only a debug line, so that one failure is not logged three times.
        logger.debug("redis connection error; closing", metadata: ["error": "\(reason)"])
        if error is RESPDecodingError {
            close(context: context) { .protocolError(command: $0, reason: reason) }
        } else {
            close(context: context) { .connectionClosed(command: $0, reason: reason) }
        }
    }

    /// Closes the connection on request: what is in flight fails with `reason`.
    func closeRequested(reason: String) {
        guard let context else { return }
        close(context: context) { .connectionClosed(command: $0, reason: reason) }
    }

    // MARK: deadlines

    private func armTimer(_ deadline: NIODeadline) {
        if let current = timerDeadline, current <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        guard let context else { return }
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            this.value.timerFired()
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard let context, !pending.isEmpty else { return }
        let now = NIODeadline.now()
        guard let expiredIndex = pending.firstIndex(where: { $0.deadline <= now }) else {
            armTimer(pending.map(\.deadline).min()!)
            return
        }
        let expired = pending[expiredIndex]
        let inFlight = self.inFlight
        logger.warning("redis command deadline passed; closing the connection", metadata: [
            "command": "\(expired.name)", "timeout": "\(expired.timeout)", "in_flight": "\(inFlight)",
        ])
        closedError = { .connectionClosed(command: $0, reason: "closed after \(expired.name) passed its deadline") }
        var index = 0
        failAll { name in
            defer { index += 1 }
            return index == expiredIndex
                ? .commandTimedOut(command: name, timeout: expired.timeout, inFlight: inFlight)
                : .connectionTimedOut(command: name, timedOutCommand: expired.name)
        }
        cancelTimer()
        context.close(promise: nil)
    }

    // MARK: failing

    private func close(context: ChannelHandlerContext, _ error: @escaping (String) -> RedisError) {
        if closedError == nil { closedError = error }
        failAll(error)
        cancelTimer()
        context.close(promise: nil)
    }

    private func failAll(_ error: (String) -> RedisError) {
        while let entry = pending.popFirst() {
            let failure = error(entry.name)
            switch entry.completion {
            case .single(_, let promise):
                promise.fail(failure)
            case .batch(_, let replies):
                replies.promise.fail(failure)
            }
        }
    }
}
