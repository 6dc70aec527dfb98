import HTTPTypes
import Hummingbird
import ServiceContextModule
import TallyMetrics

/// Reads a W3C `traceparent` header and runs the request in a `ServiceContext` holding its
/// ``TraceIdentifiers``, so that what the request records through swift-metrics (the HTTP
/// request counter and duration histogram) carries the trace as an exemplar. A missing or
/// malformed header changes nothing. Added before the metrics middleware, which runs inside it.
struct TraceContextMiddleware<Context: RequestContext>: RouterMiddleware {
    static var traceparent: HTTPField.Name { HTTPField.Name("traceparent")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[Self.traceparent], let identifiers = TraceIdentifiers(traceparent: header) else {
            return try await next(request, context)
        }
        var serviceContext = ServiceContext.current ?? .topLevel
        serviceContext.traceIdentifiers = identifiers
        var response = try await ServiceContext.withValue(serviceContext) {
            try await next(request, context)
        }
        // The metrics middleware records a response once its body is written, after the handler
        // returned: the body is written inside the trace's context too.
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { [serviceContext] writer in
            try await ServiceContext.withValue(serviceContext) {
                let inner = body
                try await inner.write(writer)
            }
        }
        return response
    }
}
