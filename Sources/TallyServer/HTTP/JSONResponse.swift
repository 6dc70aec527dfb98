import Foundation
import Hummingbird

/// Builds JSON responses with stable key order.
///
/// A non-finite `Double` (NaN, ±infinity) has no JSON form; it is written as
/// `null`, as an absent value would be. A value that cannot be encoded at all
/// gives a 500 whose `error` says why, never an empty or partial body.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        do {
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: try self.encode(value)))
        } catch {
            let problem = ["error": "the \(status.code) response could not be encoded as JSON: \(error)"]
            return Response(status: .internalServerError, headers: fields, body: ResponseBody(byteBuffer: (try? self.encode(problem)) ?? ByteBuffer()))
        }
    }

    /// `{"error": message}` plus any extra fields.
    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        self.make(status, ["error": message], headers: headers)
    }

    /// The JSON text of `value`: keys sorted, slashes unescaped, non-finite numbers as `null`.
    static func encode(_ value: some Encodable) throws -> ByteBuffer {
        // JSONEncoder can only write a non-finite number as a string: it writes a
        // marker no other string in this response can equal (a fresh UUID), which is
        // then replaced, quotes included, by `null`.
        let marker = "tally-non-finite-\(UUID().uuidString)"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: marker, negativeInfinity: marker, nan: marker)
        var data = try encoder.encode(value)
        let quoted = Data("\"\(marker)\"".utf8)
        let null = Data("null".utf8)
        var searchFrom = data.startIndex
        while let range = data.range(of: quoted, in: searchFrom..<data.endIndex) {
            data.replaceSubrange(range, with: null)
            searchFrom = range.lowerBound + null.count
        }
        return ByteBuffer(bytes: data)
    }
}
