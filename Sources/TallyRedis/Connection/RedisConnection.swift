import Synchronization
import TallyCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One connection to a Redis server, over TCP or a Unix socket.
///
/// Thread-safe (`Sendable`): many tasks may pipeline commands on it at once;
/// replies are matched in the order the commands were written. Every command
/// has a deadline (the configuration's `commandTimeout` by default); when one
/// passes, the connection closes and all its in-flight commands fail. A
/// cancelled caller returns at once while its reply is still consumed and
/// discarded, so the connection stays usable.
public final class RedisConnection: RedisClient {
    public let configuration: RedisConfiguration
    /// 3 after a successful `HELLO 3`, 2 when the server refused it or RESP2 was asked for.
    public let protocolVersion: Int
    let channel: any Channel
    private let handler: NIOLoopBound<RedisCommandHandler>
    private let logger: Logger

    private init(configuration: RedisConfiguration, protocolVersion: Int, channel: any Channel, handler: NIOLoopBound<RedisCommandHandler>, logger: Logger) {
        self.configuration = configuration
        self.protocolVersion = protocolVersion
        self.channel = channel
        self.handler = handler
        self.logger = logger
    }

    /// Connects, then runs the handshake (`HELLO 3` with `AUTH`/`SETNAME`, or
    /// the RESP2 equivalents, then `SELECT`), all within `connectTimeout`.
    public static func connect(
        _ configuration: RedisConfiguration,
        eventLoop: (any EventLoop)? = nil,
        logger: Logger = Logger(label: "tally.redis")
    ) async throws -> RedisConnection {
        let eventLoop = eventLoop ?? MultiThreadedEventLoopGroup.singleton.any()
        let endpoint = configuration.endpoint.description
        let start = ContinuousClock.now
        var logger = logger
        logger[metadataKey: "redis.endpoint"] = "\(endpoint)"
        let handlerLogger = logger
        let limits = configuration.limits
        let onPush = configuration.onPush
        // TLS: the context is built (its files read) before connecting, so a bad file is a clear error.
        var tls: (context: NIOSSLContext, serverName: String?)?
        if let tlsConfiguration = configuration.tls {
            guard case .tcp(let host, _) = configuration.endpoint else {
                throw RedisError.tlsConfiguration(reason: "TLS needs a TCP endpoint, not \(endpoint)")
            }
            tls = (try tlsConfiguration.makeContext(), tlsConfiguration.sniName(host: host))
        }
        // The handler is kept as it is added: a connection that fails at once (a refused TLS
        // handshake) may have torn its pipeline down before anyone could look the handler up.
        let added = AddedHandler()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelInitializer { [tls] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverName))
                    }
                    let handler = RedisCommandHandler(logger: handlerLogger, onPush: onPush)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPFrameDecoder(limits: limits, deliveringTo: handler)))
                    try channel.pipeline.syncOperations.addHandler(handler)
                    added.set(NIOLoopBound(handler, eventLoop: channel.eventLoop))
                }
            }
        let channel: any Channel
        do {
            switch configuration.endpoint {
            case .tcp(let host, let port):
                channel = try await bootstrap.connect(host: host, port: port).get()
            case .unixSocket(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch let error as ChannelError {
            if case .connectTimeout = error {
                throw RedisError.connectTimeout(endpoint: endpoint, timeout: configuration.connectTimeout)
            }
            throw RedisError.connectFailed(endpoint: endpoint, reason: "\(error)")
        } catch {
            throw RedisError.connectFailed(endpoint: endpoint, reason: "\(error)")
        }
        guard let handler = added.handler else {
            try? await channel.close()
            throw RedisError.connectFailed(endpoint: endpoint, reason: "the connection's pipeline was not set up")
        }
        do {
            let remaining = configuration.connectTimeout - (ContinuousClock.now - start)
            let version = try await handshake(configuration, handler: handler, timeout: max(remaining, .milliseconds(1)), logger: logger)
            logger.debug("redis connected", metadata: ["redis.protocol": "\(version)"])
            return RedisConnection(configuration: configuration, protocolVersion: version, channel: channel, handler: handler, logger: logger)
        } catch {
            try? await channel.close()
            if case RedisError.commandTimedOut = error {
                throw RedisError.connectTimeout(endpoint: endpoint, timeout: configuration.connectTimeout)
            }
            // The TLS handshake runs before the first command: its failure closes the connection
            // under that command. Say what it was.
            if tls != nil, let redisError = error as? RedisError, case .connectionClosed(_, let reason) = redisError,
               reason.contains("SSL") || reason.contains("TLS") || reason.lowercased().contains("handshake") || reason.contains("Hostname") {
                throw RedisError.tlsHandshakeFailed(endpoint: endpoint, reason: reason)
            }
            throw error
        }
    }

    private static func handshake(_ configuration: RedisConfiguration, handler: NIOLoopBound<RedisCommandHandler>, timeout: Duration, logger: Logger) async throws -> Int {
        var version = 2
        var needsLegacyAuth = configuration.password != nil
        var needsLegacyName = configuration.clientName != nil
        if configuration.protocolPreference == .resp3 {
            var hello: [RedisArgument] = ["3"]
            if let password = configuration.password {
                hello += ["AUTH", .string(configuration.username ?? "default"), .string(password)]
            }
            if let name = configuration.clientName {
                hello += ["SETNAME", .string(name)]
            }
            do {
                _ = try await send(RedisCommand("HELLO", arguments: hello), handler: handler, timeout: timeout)
                version = 3
                needsLegacyAuth = false
                needsLegacyName = false
            } catch let error as RedisError {
                guard case .server(_, let message) = error else { throw error }
                switch error.serverErrorCode {
                case "WRONGPASS", "NOAUTH", "NOPERM":
                    throw RedisError.authenticationFailed(user: configuration.username, message: message)
                case "NOPROTO":
                    logger.info("redis refused RESP3; using RESP2", metadata: ["reply": "\(message)"])
                default:
                    guard message.lowercased().contains("unknown command") else { throw error }
                    logger.info("redis has no HELLO; using RESP2", metadata: ["reply": "\(message)"])
                }
            }
        }
        if needsLegacyAuth, let password = configuration.password {
            var auth: [RedisArgument] = []
            if let user = configuration.username { auth.append(.string(user)) }
            auth.append(.string(password))
            do {
                _ = try await send(RedisCommand("AUTH", arguments: auth), handler: handler, timeout: timeout)
            } catch RedisError.server(_, let message) {
                throw RedisError.authenticationFailed(user: configuration.username, message: message)
            }
        }
        if needsLegacyName, let name = configuration.clientName {
            _ = try await send(RedisCommand("CLIENT", "SETNAME", .string(name)), handler: handler, timeout: timeout)
        }
        if configuration.database != 0 {
            _ = try await send(RedisCommand("SELECT", .integer(configuration.database)), handler: handler, timeout: timeout)
        }
        return version
    }

    // MARK: RedisClient

    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try await Self.send(command, handler: handler, timeout: configuration.commandTimeout)
    }

    /// Sends one command with its own deadline instead of the configured `commandTimeout`.
    public func send(_ command: RedisCommand, timeout: Duration) async throws -> RESPValue {
        try await Self.send(command, handler: handler, timeout: timeout)
    }

    public func send(batch commands: [RedisCommand]) async throws -> [RESPValue] {
        try await send(batch: commands, timeout: configuration.commandTimeout)
    }

    /// Writes all commands in one flush, with one deadline for the whole batch.
    public func send(batch commands: [RedisCommand], timeout: Duration) async throws -> [RESPValue] {
        try Task.checkCancellation()  // a cancelled caller sends nothing
        let handler = self.handler
        let eventLoop = channel.eventLoop
        let promise = eventLoop.makePromise(of: [RESPValue].self)
        if eventLoop.inEventLoop {
            handler.value.send(batch: commands, timeout: timeout, promise: promise)
        } else {
            eventLoop.execute { handler.value.send(batch: commands, timeout: timeout, promise: promise) }
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
    }

    public func sendBlocking(_ command: RedisCommand, blockingFor: Duration) async throws -> RESPValue {
        try await Self.send(command, handler: handler, timeout: configuration.commandTimeout + blockingFor)
    }

    public func sendDurably(_ command: RedisCommand, replicas: Int, timeout: Duration) async throws -> (reply: RESPValue, replicas: Int) {
        try await sendDurably([], command, replicas: replicas, timeout: timeout)
    }

    /// ``sendDurably(_:replicas:timeout:)`` after `preamble` (a cluster's `ASKING`), all in one flush.
    package func sendDurably(_ preamble: [RedisCommand], _ command: RedisCommand, replicas: Int, timeout: Duration) async throws -> (reply: RESPValue, replicas: Int) {
        let milliseconds = max(1, timeout.wholeMilliseconds)
        let replies = try await send(batch: preamble + [command, RedisCommand("WAIT", .integer(replicas), .integer(milliseconds))],
                                     timeout: configuration.commandTimeout + timeout)
        let write = replies[replies.count - 2]
        if case .error(let message) = write { throw RedisError.server(command: command.name, message: message) }
        if case .error(let message) = replies[replies.count - 1] { throw RedisError.server(command: "WAIT", message: message) }
        return (write, replies[replies.count - 1].int ?? 0)
    }

    private static func send(_ command: RedisCommand, handler: NIOLoopBound<RedisCommandHandler>, timeout: Duration) async throws -> RESPValue {
        try Task.checkCancellation()  // a cancelled caller sends nothing
        let eventLoop = handler.eventLoop
        let promise = eventLoop.makePromise(of: RESPValue.self)
        if eventLoop.inEventLoop {
            handler.value.send(command, timeout: timeout, promise: promise)
        } else {
            eventLoop.execute { handler.value.send(command, timeout: timeout, promise: promise) }
        }
        // On cancellation the caller returns now; the pending entry stays queued
        // so the reply is consumed (and discarded) in order.
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
    }

    // MARK: lifecycle

    /// False once the connection closed, for any reason.
    public var isActive: Bool { channel.isActive }

    /// Closes the connection; commands in flight fail with `connectionClosed`.
    public func close() async {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.closeRequested(reason: "closed by the client") }
        try? await channel.closeFuture.get()
    }

    /// Completes when the connection has closed.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}

/// The command handler of a connection being set up, handed from the channel initializer.
private final class AddedHandler: Sendable {
    private let value = Mutex<NIOLoopBound<RedisCommandHandler>?>(nil)

    func set(_ handler: NIOLoopBound<RedisCommandHandler>) { value.withLock { $0 = handler } }
    var handler: NIOLoopBound<RedisCommandHandler>? { value.withLock { $0 } }
}
