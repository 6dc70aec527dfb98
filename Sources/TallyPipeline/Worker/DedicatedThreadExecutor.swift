import NIOCore
import NIOPosix

/// A task executor on threads of its own, outside Swift's shared cooperative pool.
///
/// Workers decode, calculate and encode whole batches: CPU work that, on the
/// shared pool, would queue ahead of latency-sensitive requests such as a
/// `/metrics` scrape. Tasks that prefer this executor run here instead, and
/// the kernel shares the cores between them and the HTTP handlers.
package final class DedicatedThreadExecutor: TaskExecutor {
    private let group: MultiThreadedEventLoopGroup

    public init(threads: Int = 1) {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = self.asUnownedTaskExecutor()
        self.group.next().execute {
            job.runSynchronously(on: executor)
        }
    }

    /// Stops the threads; call it only once no task prefers this executor any more.
    public func shutdown() async {
        try? await self.group.shutdownGracefully()
    }
}
