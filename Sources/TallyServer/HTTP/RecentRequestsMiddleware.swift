import Foundation
import Hummingbird
import TallyCore

/// Records every request (method, path, status, duration) into the debug ring.
struct RecentRequestsMiddleware<Context: RequestContext>: RouterMiddleware {
    let rings: DebugRings

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = String(request.uri.path.prefix(200))
        do {
            let response = try await next(request, context)
            self.record(request, path: path, status: Int(response.status.code), since: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            self.record(request, path: path, status: Int(status), since: start)
            self.rings.recordError(path: path, status: Int(status), message: "\(error)")
            throw error
        }
    }

    private func record(_ request: Request, path: String, status: Int, since start: ContinuousClock.Instant) {
        self.rings.requests.append(DebugRings.RequestRecord(
            at: Date().timeIntervalSince1970,
            method: request.method.rawValue,
            path: path,
            status: status,
            durationSeconds: (ContinuousClock.now - start).secondsValue
        ))
    }
}
