import ServiceLifecycle
import TallyPipeline

/// The worker pool as a service: stops reading on graceful shutdown and
/// returns once in-flight batches are committed.
package struct WorkerService: Service {
    let pool: WorkerPool

    public init(pool: WorkerPool) {
        self.pool = pool
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.pool.run()
        } onGracefulShutdown: {
            self.pool.stop()
        }
    }
}
