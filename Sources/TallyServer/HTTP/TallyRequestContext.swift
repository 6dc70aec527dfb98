import Hummingbird
import NIOCore

/// The request context of a node's router: Hummingbird's core context plus the
/// request's connection, which ingest closes itself after refusing an
/// oversize body (see ``BoundedBody``).
package struct TallyRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
