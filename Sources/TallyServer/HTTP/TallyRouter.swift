import Foundation
import Hummingbird
import TallyMetrics
import TallyPipeline

/// The HTTP API of a Tally node on Hummingbird's router: ingest, `/metrics`,
/// health, derived metrics as JSON, the debug rings and the status page. The service's own
/// request metrics go through Hummingbird's `MetricsMiddleware` into the
/// registry (route templates as labels, never raw paths), with the request's `traceparent`
/// trace as their exemplar.
package enum TallyRouter {
    public static func build(node: TallyNodeComponents) -> Router<TallyRequestContext> {
        let router = Router(context: TallyRequestContext.self)
        router.add(middleware: TraceContextMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: RecentRequestsMiddleware(rings: node.rings))

        router.post("/v1/events") { request, context in
            await node.ingest.handle(request, channel: context.channel)
        }
        // Renders what the refresher last read from the store: a scrape never waits on Redis.
        router.get("/metrics") { request, _ in
            Self.metrics(node.registry, request)
        }
        // Reads the state afresh and changes nothing: the gauges are the refresher's alone.
        router.get("/v1/metrics") { _, _ in
            do {
                return JSONResponse.make(.ok, try await node.exporter.reader.read())
            } catch {
                return JSONResponse.error(.serviceUnavailable, "the state store is unavailable: \(error)", headers: [.retryAfter: "1"])
            }
        }
        router.get("/health/live") { _, _ in
            JSONResponse.make(.ok, ["status": "live"])
        }
        router.get("/health/ready") { _, _ in
            let report = await node.health()
            return JSONResponse.make(report.ready ? .ok : .serviceUnavailable, report)
        }
        router.get("/health") { _, _ in
            let report = await node.health()
            return JSONResponse.make(report.ready ? .ok : .serviceUnavailable, report)
        }
        // Self-contained status page: it reads /v1/metrics and /metrics from the browser.
        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    .contentSecurityPolicy: StatusPage.contentSecurityPolicy,
                    .cacheControl: "no-store",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(string: StatusPage.html))
            )
        }
        router.get("/v1/debug/recent") { _, _ in
            JSONResponse.make(.ok, RecentActivity(requests: node.rings.requests.snapshot(), errors: node.rings.errors.snapshot()))
        }
        return router
    }

    /// `GET /metrics` and `GET /health/live` alone: what a `tally worker` process serves.
    public static func buildMetricsOnly(registry: MetricsRegistry) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/metrics") { request, _ in
            Self.metrics(registry, request)
        }
        router.get("/health/live") { _, _ in
            JSONResponse.make(.ok, ["status": "live"])
        }
        return router
    }

    /// The registry in the format the `Accept` header asks for (Prometheus text or OpenMetrics).
    static func metrics(_ registry: MetricsRegistry, _ request: Request) -> Response {
        let format = ExpositionFormat.negotiate(accept: request.headers[.accept])
        return Response(
            status: .ok,
            headers: [.contentType: format.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.render(format: format)))
        )
    }
}

struct RecentActivity: Encodable {
    let requests: [DebugRings.RequestRecord]
    let errors: [DebugRings.ErrorRecord]
}
