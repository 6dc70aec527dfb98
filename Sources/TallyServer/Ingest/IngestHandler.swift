import Foundation
import Hummingbird
import Logging
import NIOCore
import TallyPipeline

/// `POST /v1/events`: one object, a JSON array or NDJSON, all-or-nothing.
///
/// 202 `{"accepted": n}` only once the log has every event; 400 naming the
/// first bad item (`index`, `field`, `message`); 401 without a valid token
/// when one is configured; 413 past the body limit, answered as soon as the
/// limit is passed and read by the client (``BoundedBody``); 415 for another
/// content type; 503 with `Retry-After` when the log cannot be reached. A batch repeated with the same `Idempotency-Key`
/// within the window is acknowledged again without being stored twice.
public struct IngestHandler: Sendable {
    struct BadEvent: Encodable {
        let error: String
        let index: Int
        let field: String
        let message: String
    }

    struct Accepted: Encodable {
        let accepted: Int
    }

    let ingestor: EventIngestor
    let token: BearerToken?
    let maxBodyBytes: Int
    /// After a 413, how much more of the body is discarded before the connection is closed.
    var maxDiscardBytes = 64 << 20
    /// How long a connection refused past `maxDiscardBytes` is still read after the server's FIN.
    var discardLinger: Duration = .seconds(2)
    let retryAfterSeconds: Int
    let idempotency: IdempotencyCache
    let rings: DebugRings
    let logger: Logger

    /// - Parameter channel: the request's connection, closed after a 413 once the body is discarded (nil: left open).
    public func handle(_ request: Request, channel: (any Channel)? = nil) async -> Response {
        let path = request.uri.path
        if let token, !token.accepts(authorization: request.headers[.authorization]) {
            return self.reject(.unauthorized, "missing or invalid bearer token", path: path, headers: [.wwwAuthenticate: "Bearer"])
        }
        let format: EventDecoder.Format
        switch Self.mediaType(request.headers[.contentType]) {
        case "application/json", "": format = .json
        case "application/x-ndjson": format = .ndjson
        case let other:
            return self.reject(.unsupportedMediaType, "content type '\(other)' is not accepted; use application/json or application/x-ndjson", path: path)
        }
        let body: ByteBuffer
        let bounded = BoundedBody(limit: self.maxBodyBytes, maxDiscardBytes: self.maxDiscardBytes, linger: self.discardLinger)
        do {
            switch try await bounded.read(request) {
            case .complete(let complete):
                body = complete
            case .tooLarge(let remainder):
                let message = "the body is larger than \(self.maxBodyBytes) bytes"
                self.rings.recordError(path: path, status: Int(HTTPResponse.Status.contentTooLarge.code), message: message)
                return bounded.refusal(remainder, message: message, channel: channel)
            }
        } catch {
            return self.reject(.badRequest, "the body could not be read: \(error)", path: path)
        }
        guard body.readableBytes > 0 else {
            return self.reject(.badRequest, "the body is empty; send one event object, a JSON array or NDJSON", path: path)
        }
        let idempotencyKey = request.headers.first { $0.name.canonicalName == "idempotency-key" }?.value
        if let idempotencyKey, let count = self.idempotency.acceptedCount(for: idempotencyKey) {
            return JSONResponse.make(.accepted, Accepted(accepted: count))
        }
        let events: [TelemetryEvent]
        do {
            events = try await self.ingestor.ingest(body.readableBytesView, format: format)
        } catch let error as EventBatchError {
            self.rings.recordError(path: path, status: 400, message: error.description)
            return JSONResponse.make(.badRequest, BadEvent(error: error.description, index: error.index, field: error.field, message: error.message))
        } catch {
            self.logger.warning("event log unavailable; batch refused", metadata: ["error": "\(error)"])
            return self.reject(
                .serviceUnavailable, "the event log is unavailable, nothing was stored: \(error)", path: path,
                headers: [.retryAfter: String(self.retryAfterSeconds)]
            )
        }
        guard !events.isEmpty else {
            return self.reject(.badRequest, "the batch holds no events", path: path)
        }
        if let idempotencyKey {
            self.idempotency.remember(idempotencyKey, accepted: events.count)
        }
        return JSONResponse.make(.accepted, Accepted(accepted: events.count))
    }

    private func reject(_ status: HTTPResponse.Status, _ message: String, path: String, headers: HTTPFields = [:]) -> Response {
        self.rings.recordError(path: path, status: Int(status.code), message: message)
        return JSONResponse.error(status, message, headers: headers)
    }

    /// The media type of a `Content-Type` value, lower-cased, without parameters.
    static func mediaType(_ header: String?) -> String {
        guard let header else { return "" }
        let type = header.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
