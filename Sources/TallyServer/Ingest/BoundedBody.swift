import Hummingbird
import NIOCore

/// Reads a request body up to a limit and, when a body goes past it, refuses
/// it with a 413 that the client actually reads.
///
/// A server that closes a connection while the client is still sending makes
/// the client's TCP stack see a reset, and a client busy writing reports the
/// reset instead of the response. So the refusal goes out as soon as the
/// limit is passed (at once when `Content-Length` already says so), with
/// `Connection: close`; then the rest of the body is read and discarded, up
/// to `maxDiscardBytes`; then the connection is closed: output first (the
/// client sees the response and a FIN), and, when the body went on past the
/// bound, input only after the client stops sending or `linger` has passed.
/// Memory stays bounded by `limit`: discarded bytes are never kept.
struct BoundedBody: Sendable {
    /// The largest body accepted, in bytes.
    let limit: Int
    /// How much of a refused body is read and discarded before the connection is closed.
    let maxDiscardBytes: Int
    /// How long a connection refused past `maxDiscardBytes` is still read after the FIN.
    let linger: Duration

    enum Outcome: Sendable {
        /// The whole body, within the limit.
        case complete(ByteBuffer)
        /// Past the limit: what is left to read, for ``refusal(_:message:channel:)``.
        case tooLarge(Remainder)
    }

    /// The unread rest of a refused body. It moves from the handler to the
    /// response writer, which Hummingbird runs after the handler returns, in
    /// the same task: it is never used by two tasks at once.
    final class Remainder: @unchecked Sendable {
        fileprivate var iterator: RequestBody.AsyncIterator

        fileprivate init(_ iterator: RequestBody.AsyncIterator) {
            self.iterator = iterator
        }
    }

    /// Reads `request`'s body, stopping as soon as it is known to be larger than `limit`.
    func read(_ request: Request) async throws -> Outcome {
        var iterator = request.body.makeAsyncIterator()
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > self.limit {
            return .tooLarge(Remainder(iterator))
        }
        var collected = ByteBuffer()
        while var chunk = try await iterator.next() {
            if chunk.readableBytes > self.limit - collected.readableBytes {
                return .tooLarge(Remainder(iterator))
            }
            collected.writeBuffer(&chunk)
        }
        return .complete(collected)
    }

    /// The 413 with `{"error": message}`: head and body are written and flushed first,
    /// then the rest of the request body is discarded and the connection closed as the
    /// type describes (left open when `channel` is nil).
    func refusal(_ remainder: Remainder, message: String, channel: (any Channel)?) -> Response {
        self.refusal(remainder, status: .contentTooLarge, message: message, channel: channel)
    }

    /// A refusal sent before the body was read at all (401, 415, a bad header): the same care as a
    /// 413, so that a client still sending its body reads the status rather than a reset.
    func refusalBeforeReading(_ request: Request, status: HTTPResponse.Status, message: String, headers: HTTPFields = [:],
                              channel: (any Channel)?) -> Response {
        self.refusal(Remainder(request.body.makeAsyncIterator()), status: status, message: message, headers: headers, channel: channel)
    }

    private func refusal(_ remainder: Remainder, status: HTTPResponse.Status, message: String, headers extra: HTTPFields = [:],
                         channel: (any Channel)?) -> Response {
        let json = (try? JSONResponse.encode(["error": message])) ?? ByteBuffer(string: #"{"error":"the request was refused"}"#)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .connection: "close"]
        headers.append(contentsOf: extra)
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(contentLength: json.readableBytes) { writer in
                try await writer.write(json)
                try await writer.finish(nil)
                await self.discard(remainder, then: channel)
            }
        )
    }

    private func discard(_ remainder: Remainder, then channel: (any Channel)?) async {
        var discarded = 0
        var ended = false
        do {
            while discarded <= self.maxDiscardBytes {
                guard let chunk = try await remainder.iterator.next() else {
                    ended = true
                    break
                }
                discarded += chunk.readableBytes
            }
        } catch {
            return  // the connection is gone already
        }
        guard let channel else { return }
        // The response is out; half-closing waits for pending writes, then sends a FIN.
        try? await channel.close(mode: .output)
        if !ended {
            // The client is still sending: keep reading so that it gets no reset while it
            // reads the response, until it stops or `linger` is over.
            let closer = channel.eventLoop.scheduleTask(in: TimeAmount.nanoseconds(Int64(self.linger / .nanoseconds(1)))) {
                channel.close(promise: nil)
            }
            while (try? await remainder.iterator.next()) != nil {}
            closer.cancel()
        }
        try? await channel.close()
    }
}
