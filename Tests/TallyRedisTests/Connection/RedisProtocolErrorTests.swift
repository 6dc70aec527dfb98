import NIOCore
import NIOPosix
import TallyRedis
import TallyTesting
import Testing

/// A fake server that answers the first read with fixed bytes, then optionally hangs up.
private final class ScriptedReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let reply: String
    let hangUp: Bool

    init(reply: String, hangUp: Bool) {
        self.reply = reply
        self.hangUp = hangUp
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
        if hangUp { context.close(promise: nil) }
    }
}

private func withScriptedServer<T>(reply: String, hangUp: Bool, _ body: (RedisConfiguration) async throws -> T) async throws -> T {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ScriptedReplyHandler(reply: reply, hangUp: hangUp))
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    // RESP2 without credentials: no handshake, the first command meets the scripted reply.
    let configuration = RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: server.localAddress!.port!), protocolPreference: .resp2)
    do {
        let result = try await body(configuration)
        try await server.close()
        return result
    } catch {
        try? await server.close()
        throw error
    }
}

@Test func malformedReplyFailsTheCommandAndClosesTheConnection() async throws {
    try await withScriptedServer(reply: ":12x\r\n", hangUp: false) { configuration in
        let connection = try await RedisConnection.connect(configuration)
        let error = await expectRedisError { _ = try await connection.ping() }
        guard case .protocolError(let command, let reason) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(command == "PING")
        #expect(reason.contains("invalid integer"))
        try await waitUntil { !connection.isActive }
    }
}

@Test func replyCutByTheServerClosingIsAnErrorNotAHang() async throws {
    try await withScriptedServer(reply: "$10\r\nabc", hangUp: true) { configuration in
        let connection = try await RedisConnection.connect(configuration)
        let error = await expectRedisError { _ = try await connection.get("k") }
        switch error {
        case .protocolError(let command, let reason):
            #expect(command == "GET")
            #expect(reason.contains("ended inside a frame"))
        case .connectionClosed(let command, _):
            #expect(command == "GET")
        default:
            Issue.record("got \(String(describing: error))")
        }
    }
}

@Test func unsolicitedReplyClosesTheConnection() async throws {
    try await withScriptedServer(reply: "+OK\r\n+EXTRA\r\n", hangUp: false) { configuration in
        let connection = try await RedisConnection.connect(configuration)
        // The first reply answers PING; the second has no command waiting for it.
        _ = try? await connection.ping()
        try await waitUntil { !connection.isActive }
    }
}
