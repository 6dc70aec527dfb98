import AsyncHTTPClient
import Foundation
import NIOCore

/// Talking to a running `tally serve` over loopback.
enum NodeTraffic {
    @discardableResult
    static func post(_ base: String, _ body: String, client: HTTPClient, contentType: String = "application/x-ndjson") async throws -> Int {
        var request = HTTPClientRequest(url: base + "/v1/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 16)
        return Int(response.status.code)
    }

    /// 20 completions (15 accepted, 10–200 ms), 6 tool calls (one failing, one tool name with markup), 2 errors, 2 sessions.
    static let knownEvents: String = {
        var lines = [#"{"type":"session_start","session_id":"a"}"#, #"{"type":"session_start","session_id":"b"}"#]
        for i in 0..<20 {
            lines.append(#"{"type":"completion","session_id":"\#(i % 2 == 0 ? "a" : "b")","latency_ms":\#((i + 1) * 10),"accepted":\#(i % 4 != 3)}"#)
        }
        for (tool, success) in [("grep", true), ("grep", false), ("edit", true), ("edit", true), ("read", true), ("<img src=x onerror=alert(1)>", true)] {
            lines.append(#"{"type":"tool_call","session_id":"a","tool":"\#(tool)","success":\#(success)}"#)
        }
        lines.append(#"{"type":"error","session_id":"b","code":"rate_limited"}"#)
        lines.append(#"{"type":"error","session_id":"b","code":"timeout"}"#)
        return lines.joined(separator: "\n")
    }()

    static let knownEventCount = 30
    /// Completions, tool calls and errors the state counts from ``knownEvents``.
    static let knownAppliedCount = 28.0
}
