import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import TallyPipeline
import Testing
@testable import TallyServer

/// A body past `--max-body-bytes` gets a 413 that the client reads, over real
/// TCP on loopback, with a client that keeps sending its whole body whatever
/// the server answers meanwhile.
@Suite struct BoundedBodyTests {
    @Test func aClientThatKeepsSendingReadsThe413EveryTimeOverAThousandRepeats() async throws {
        try await withLiveNode(maxBodyBytes: 1024) { port in
            let body = 1 << 20
            var failures: [String] = []
            for repeat_ in 0..<1_000 {
                // Half declare their length (refused from the head), half are chunked (refused once the limit is passed).
                let framing: RawHTTPClient.Framing = repeat_ % 2 == 0 ? .contentLength : .chunked
                let exchange = try await RawHTTPClient.post(port: port, bodyBytes: body, framing: framing, closing: repeat_ % 4 >= 2)
                if exchange.status != 413 || exchange.writeError != nil || exchange.bytesSent != body {
                    failures.append("repeat \(repeat_) (\(framing)): \(exchange)")
                }
            }
            #expect(failures.isEmpty, "\(failures.count) of 1000 did not read the 413 after sending the whole body: \(failures.prefix(5))")
        }
    }

    @Test func theRefusalNamesTheLimitAndTheConnectionIsClosedOnceTheBodyIsRead() async throws {
        try await withLiveNode(maxBodyBytes: 1024) { port in
            let exchange = try await RawHTTPClient.post(port: port, bodyBytes: 256 << 10, framing: .chunked)
            #expect(exchange.status == 413)
            #expect(exchange.headers["connection"] == "close")
            #expect(exchange.body.contains("larger than 1024 bytes"), "\(exchange.body)")
            #expect(exchange.closedByServer, "the server keeps a refused connection open: \(exchange)")
        }
    }

    @Test func aBodyPastTheDiscardBoundStillReadsThe413AndTheServerHangsUpAfterLingering() async throws {
        // 64 KiB are discarded after the limit; then the server sends its FIN, reads on for 200 ms and closes.
        try await withLiveNode(maxBodyBytes: 1024, maxDiscardBytes: 64 << 10, linger: .milliseconds(200)) { port in
            let started = ContinuousClock.now
            // A client that would send 4 GiB and ignores the FIN: it reads the 413, then its writes fail.
            let exchange = try await RawHTTPClient.post(port: port, bodyBytes: 4 << 30, framing: .chunked, timeout: .seconds(30))
            let elapsed = ContinuousClock.now - started
            #expect(exchange.status == 413, "\(exchange)")
            #expect(exchange.closedByServer, "\(exchange)")
            #expect(exchange.writeError != nil && exchange.bytesSent < 4 << 30, "\(exchange)")
            #expect(elapsed >= .milliseconds(200), "the server closed without lingering")
            #expect(elapsed < .seconds(20))
        }
    }

    @Test func refusalsBeforeTheBodyIsReadAreReadToo() async throws {
        // No token when one is required (401), another content type (415): the body is still read and
        // discarded, so a client that keeps sending, even one that asks to close, reads the status.
        try await withLiveNode(maxBodyBytes: 1 << 20, token: "secret") { port in
            var failures: [String] = []
            for repeat_ in 0..<200 {
                let framing: RawHTTPClient.Framing = repeat_ % 2 == 0 ? .contentLength : .chunked
                let wrongType = repeat_ % 3 == 0
                let exchange = try await RawHTTPClient.post(port: port, bodyBytes: 256 << 10, framing: framing, closing: repeat_ % 4 >= 2,
                                                            contentType: wrongType ? "text/plain" : "application/json")
                // The token is checked first: both get 401 here.
                if exchange.status != 401 || exchange.writeError != nil {
                    failures.append("repeat \(repeat_) (\(framing)): \(exchange)")
                }
            }
            #expect(failures.isEmpty, "\(failures.count) of 200 did not read the 401: \(failures.prefix(5))")
        }
        try await withLiveNode(maxBodyBytes: 1 << 20) { port in
            for framing in [RawHTTPClient.Framing.contentLength, .chunked] {
                let exchange = try await RawHTTPClient.post(port: port, bodyBytes: 256 << 10, framing: framing, closing: true, contentType: "text/plain")
                #expect(exchange.status == 415 && exchange.writeError == nil, "\(exchange)")
            }
        }
    }

    @Test func aBodyWithinTheLimitIsStillAccepted() async throws {
        try await withLiveNode(maxBodyBytes: 4096) { port in
            let event = #"{"type":"session_start","session_id":"s"}"#
            let exchange = try await RawHTTPClient.post(port: port, body: Array(event.utf8), framing: .chunked)
            #expect(exchange.status == 202, "\(exchange)")
            #expect(exchange.headers["connection"] == nil)
        }
    }
}

/// A node with the full router behind a real HTTP server on an ephemeral loopback port.
func withLiveNode(
    maxBodyBytes: Int, maxDiscardBytes: Int = 64 << 20, linger: Duration = .seconds(2), token: String? = nil,
    _ body: @Sendable (Int) async throws -> Void
) async throws {
    var configuration = TallyServerConfiguration()
    configuration.token = token
    configuration.maxBodyBytes = maxBodyBytes
    configuration.maxDiscardBytes = maxDiscardBytes
    configuration.discardLinger = linger
    configuration.workers = 1
    let components = try TallyNodeComponents(configuration: configuration)
    try await components.log.prepare()
    let app = Application(
        router: TallyRouter.build(node: components),
        configuration: .init(address: .hostname("127.0.0.1", port: 0))
    )
    try await app.test(.live) { client in
        try await body(try #require(client.port))
    }
    await components.close()
}

/// An HTTP/1.1 client on raw NIO: one request per fresh connection, whose body
/// it sends in full (64 KiB writes, each awaited) even after a response has
/// arrived, reading concurrently; then it waits for a complete response or
/// the server's close.
enum RawHTTPClient {
    struct NoResponse: Error {}

    enum Framing: Sendable {
        case contentLength
        case chunked
    }

    struct Exchange: Sendable, CustomStringConvertible {
        var status: Int?
        var headers: [String: String] = [:]
        var body = ""
        var bytesSent = 0
        var writeError: String?
        var readError: String?
        /// The server ended its side of the connection (a FIN or a close).
        var closedByServer = false

        var description: String {
            "status \(status.map(String.init) ?? "none"), sent \(bytesSent), write error \(writeError ?? "none"), read error \(readError ?? "none"), closed by the server \(closedByServer)"
        }
    }

    static func post(port: Int, bodyBytes: Int, framing: Framing, closing: Bool = false, contentType: String = "application/json",
                     timeout: Duration = .seconds(10)) async throws -> Exchange {
        try await post(port: port, body: nil, bodyBytes: bodyBytes, framing: framing, closing: closing, contentType: contentType, timeout: timeout)
    }

    static func post(port: Int, body: [UInt8], framing: Framing, closing: Bool = false, timeout: Duration = .seconds(10)) async throws -> Exchange {
        try await post(port: port, body: body, bodyBytes: body.count, framing: framing, closing: closing, contentType: "application/json", timeout: timeout)
    }

    private static let filler = ByteBuffer(repeating: UInt8(ascii: " "), count: 64 << 10)

    private static func post(port: Int, body: [UInt8]?, bodyBytes: Int, framing: Framing, closing: Bool, contentType: String,
                             timeout: Duration) async throws -> Exchange {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.any().makePromise(of: Exchange.self)
        let channel = try await ClientBootstrap(group: group)
            // A FIN from the server does not stop this client sending: it goes on until a write fails.
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ResponseReader(done: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        var head = "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(contentType)\r\n"
        if closing { head += "Connection: close\r\n" }
        head += framing == .contentLength ? "Content-Length: \(bodyBytes)\r\n\r\n" : "Transfer-Encoding: chunked\r\n\r\n"
        var sent = 0
        var writeError: String?
        do {
            try await channel.writeAndFlush(ByteBuffer(string: head))
            while sent < bodyBytes {
                let chunk = body.map { ByteBuffer(bytes: $0) } ?? Self.filler.getSlice(at: 0, length: min(Self.filler.readableBytes, bodyBytes - sent))!
                var frame = ByteBuffer()
                if framing == .chunked { frame.writeString(String(chunk.readableBytes, radix: 16) + "\r\n") }
                frame.writeImmutableBuffer(chunk)
                if framing == .chunked { frame.writeString("\r\n") }
                try await channel.writeAndFlush(frame)
                sent += chunk.readableBytes
            }
            if framing == .chunked { try await channel.writeAndFlush(ByteBuffer(string: "0\r\n\r\n")) }
        } catch {
            writeError = "\(error)"
        }
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout / .nanoseconds(1)))) {
            promise.fail(NoResponse())
        }
        var exchange: Exchange
        do {
            exchange = try await promise.futureResult.get()
        } catch {
            exchange = Exchange(readError: "no response within \(timeout): \(error)")
        }
        deadline.cancel()
        exchange.bytesSent = sent
        exchange.writeError = writeError
        try? await channel.close()
        return exchange
    }

    /// Collects the response; completes once it is whole (head and `Content-Length` bytes) and, with
    /// `Connection: close`, once the server has ended its side too; or when the connection ends.
    private final class ResponseReader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        private let done: EventLoopPromise<Exchange>
        private var received = ByteBuffer()
        private var readError: String?
        private var complete = false
        /// Set once a whole response has been parsed; later the close is still noted.
        private var parsed: Exchange?

        init(done: EventLoopPromise<Exchange>) {
            self.done = done
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = self.unwrapInboundIn(data)
            self.received.writeBuffer(&buffer)
            if self.parsed == nil, let exchange = Self.parse(self.received) {
                self.parsed = exchange
                // With `Connection: close`, wait for the close too (bounded by the caller's timeout).
                if exchange.headers["connection"] != "close" { self.finish(exchange) }
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.readError = self.readError ?? "\(error)"
            context.close(promise: nil)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event { self.ended() }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.ended()
        }

        private func ended() {
            var exchange = self.parsed ?? Self.parse(self.received) ?? Exchange()
            exchange.closedByServer = true
            exchange.readError = self.readError
            self.finish(exchange)
        }

        private func finish(_ exchange: Exchange) {
            guard !self.complete else { return }
            self.complete = true
            self.done.succeed(exchange)
        }

        /// A whole response in `bytes`, or nil when more is needed.
        private static func parse(_ bytes: ByteBuffer) -> Exchange? {
            let text = String(buffer: bytes)
            guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
            let lines = text[..<headEnd.lowerBound].split(separator: "\r\n")
            guard let statusLine = lines.first else { return nil }
            var exchange = Exchange()
            exchange.status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                exchange.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(exchange.headers["content-length"] ?? "0") ?? 0
            let body = text[headEnd.upperBound...]
            guard body.utf8.count >= length else { return nil }
            exchange.body = String(body)
            return exchange
        }
    }
}
