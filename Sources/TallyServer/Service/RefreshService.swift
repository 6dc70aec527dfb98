import ServiceLifecycle
import TallyPipeline

/// Re-reads the derived metrics from the store at an interval, so gauges stay fresh between scrapes.
struct RefreshService: Service {
    let exporter: DerivedMetricsExporter
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.exporter.run(every: self.interval)
        }
    }
}
