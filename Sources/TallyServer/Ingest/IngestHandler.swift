import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TallyPipeline
import TallyRedis

/// `POST /v1/events`: one object, a JSON array or NDJSON, all-or-nothing.
///
/// 202 `{"accepted": n}` only once the log has every event; 400 naming the
/// first bad item (`index`, `field`, `message`) or a malformed
/// `Idempotency-Key`; 401 without a valid token when one is configured; 413
/// past the body limit (checked while the body streams in); 415 for another
/// content type; 422 for an `Idempotency-Key` reused with another body; 503
/// with `Retry-After` when the log cannot be reached, within the append
/// deadline, saying whether the batch was certainly not stored or whether its
/// outcome is unknown (then a retry with the same key is safe).
///
/// The key is recorded in the log in the same atomic step as the append, so
/// a copy sent to any node while or after the first is stored gets the first
/// answer again (`Idempotent-Replayed: true`) and stores nothing: concurrent
/// copies are serialised by that step, so none ever sees a copy "in flight".
package struct IngestHandler: Sendable {
    struct BadEvent: Encodable {
        let error: String
        let index: Int
        let field: String
        let message: String
    }

    struct Accepted: Encodable {
        let accepted: Int
        /// Present when some events were already appended and not stored again.
        let deduplicated: Int?
    }

    struct Unavailable: Encodable {
        let error: String
        /// `not_stored`: nothing was appended. `unknown`: the append may have happened; retrying
        /// with the same `Idempotency-Key` (or the same event ids under dedupe) is safe.
        let outcome: String
    }

    let ingestor: EventIngestor
    let token: BearerToken?
    let maxBodyBytes: Int
    /// After a 413, how much more of the body is discarded before the connection is closed.
    var maxDiscardBytes = 64 << 20
    /// How long a connection refused past `maxDiscardBytes` is still read after the server's FIN.
    var discardLinger: Duration = .seconds(2)
    let retryAfterSeconds: Int
    /// How long one request may wait on the log before it is answered 503 (outcome unknown).
    let appendTimeout: Duration
    let breaker: LogCircuitBreaker
    let metrics: IngestMetrics?
    let rings: DebugRings
    let logger: Logger

    /// - Parameter channel: the request's connection, closed after a 413 once the body is discarded (nil: left open).
    public func handle(_ request: Request, channel: (any Channel)? = nil) async -> Response {
        let path = request.uri.path
        let bounded = BoundedBody(limit: self.maxBodyBytes, maxDiscardBytes: self.maxDiscardBytes, linger: self.discardLinger)
        // Refused before the body is read: the body is still read and discarded, so the client reads the status.
        func refuseUnread(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
            self.rings.recordError(path: path, status: Int(status.code), message: message)
            return bounded.refusalBeforeReading(request, status: status, message: message, headers: headers, channel: channel)
        }
        if let token, !token.accepts(authorization: request.headers[.authorization]) {
            return refuseUnread(.unauthorized, "missing or invalid bearer token", headers: [.wwwAuthenticate: "Bearer"])
        }
        let format: EventDecoder.Format
        switch Self.mediaType(request.headers[.contentType]) {
        case "application/json", "": format = .json
        case "application/x-ndjson": format = .ndjson
        case let other:
            return refuseUnread(.unsupportedMediaType, "content type '\(other)' is not accepted; use application/json or application/x-ndjson")
        }
        var idempotencyKey: String?
        if let given = request.headers[Self.idempotencyKeyField] {
            if let problem = Self.problem(withIdempotencyKey: given) {
                return refuseUnread(.badRequest, "the Idempotency-Key header \(problem)")
            }
            idempotencyKey = self.token.map { "\($0.scope):\(given)" } ?? given
        }
        let body: ByteBuffer
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
        switch self.breaker.admit() {
        case .admitted:
            break
        case .open(let reason):
            self.metrics?.refused(.breakerOpen)
            return self.unavailable("the event log is unreachable (\(reason)); nothing was stored", outcome: "not_stored", path: path)
        case .saturated:
            self.metrics?.refused(.saturated)
            return self.unavailable("\(self.breaker.configuration.maxWaiting) requests are already waiting on the event log; nothing was stored",
                                    outcome: "not_stored", path: path)
        }
        let ingestor = self.ingestor
        let key = idempotencyKey
        let result: (events: [TelemetryEvent], outcome: EventIngestor.Outcome)
        do {
            result = try await withDeadline(self.appendTimeout) {
                try await ingestor.ingest(body.readableBytesView, format: format, idempotencyKey: key)
            }
            self.breaker.finish(succeeded: true)
        } catch let error as EventBatchError {
            self.breaker.finish(succeeded: true)
            self.rings.recordError(path: path, status: 400, message: error.description)
            return JSONResponse.make(.badRequest, BadEvent(error: error.description, index: error.index, field: error.field, message: error.message))
        } catch {
            self.breaker.finish(succeeded: false, reason: "\(error)")
            let notStored = (error as? RedisError).map { $0.wasNotSent || $0.serverErrorCode != nil } ?? false
            self.metrics?.refused(notStored ? .logError : .outcomeUnknown)
            self.logger.warning("event log unavailable; batch refused", metadata: ["error": "\(error)", "stored": "\(notStored ? "no" : "unknown")"])
            if notStored {
                return self.unavailable("the event log is unavailable, nothing was stored: \(error)", outcome: "not_stored", path: path)
            }
            return self.unavailable(
                "the event log did not confirm the append (\(error)): the batch may or may not have been stored; "
                    + "retrying with the same Idempotency-Key (or the same event ids under dedupe) is safe",
                outcome: "unknown", path: path
            )
        }
        switch result.outcome {
        case .accepted(let count, let deduplicated):
            guard count > 0 else { return self.reject(.badRequest, "the batch holds no events", path: path) }
            return JSONResponse.make(.accepted, Accepted(accepted: count, deduplicated: deduplicated > 0 ? deduplicated : nil))
        case .replayed(let count):
            self.metrics?.replayed.increment()
            return JSONResponse.make(.accepted, Accepted(accepted: count, deduplicated: nil), headers: [Self.replayedField: "true"])
        case .conflict(let count):
            self.metrics?.conflicts.increment()
            return self.reject(
                .unprocessableContent,
                "the Idempotency-Key was first used with a different body (then \(count) events were accepted); nothing was stored. Use a new key for a new batch",
                path: path
            )
        }
    }

    static let idempotencyKeyField = HTTPField.Name("Idempotency-Key")!
    static let replayedField = HTTPField.Name("Idempotent-Replayed")!

    /// Why a key is refused, or nil: 1…255 bytes of printable ASCII.
    static func problem(withIdempotencyKey key: String) -> String? {
        let bytes = key.utf8
        if bytes.isEmpty { return "is empty" }
        if bytes.count > AppendPolicy.maxIdempotencyKeyBytes {
            return "is \(bytes.count) bytes long; the limit is \(AppendPolicy.maxIdempotencyKeyBytes)"
        }
        if !bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return "must be printable ASCII" }
        return nil
    }

    private func unavailable(_ message: String, outcome: String, path: String) -> Response {
        self.rings.recordError(path: path, status: 503, message: message)
        return JSONResponse.make(.serviceUnavailable, Unavailable(error: message, outcome: outcome),
                                 headers: [.retryAfter: String(self.retryAfterSeconds)])
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
