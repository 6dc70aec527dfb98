import Foundation
import Logging
import ServiceLifecycle
import TallyPipeline
import TallyRedis

/// Reads the log's figures every sampling interval, the node's one read of them (kept in
/// ``TallyNodeComponents/figures`` for the exporter and `/health`), and acts on them: adjusts
/// the ingest sampler from the lag (pressure = lag / max lag), sets the
/// `queue_*{queue="events"}` depth and oldest-age gauges, and reads Redis's
/// INFO figures. A failed read leaves the sampler's probability as it was and
/// sets the queue gauges to NaN until a read succeeds. Cancelled on graceful shutdown.
struct LoadMonitorService: Service {
    let components: TallyNodeComponents

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.components.monitorLoad()
                do {
                    try await Task.sleep(for: self.components.configuration.samplingInterval)
                } catch {
                    return
                }
            }
        }
    }
}

extension TallyNodeComponents {
    /// One round of ``LoadMonitorService``: the node's one read of the log's figures, and what
    /// depends on it.
    public func monitorLoad() async {
        do {
            let figures = try await self.figures.read(self.log)
            if let sampler = self.sampler {
                sampler.adjust(pressure: Double(figures.lag) / Double(max(1, self.configuration.samplingMaxLag)))
            }
            let depth = figures.lag + figures.pending
            let oldestAge = depth == 0 ? nil : try await self.log.oldestWaitingAge()
            self.pipelineMetrics.queue.setDepth(depth, oldestAgeSeconds: oldestAge)
            self.ingestMetrics.update(from: try await self.log.appendRecordFigures())
        } catch {
            self.pipelineMetrics.queue.markDepthUnknown()
            self.logger.debug("load monitor: the log's figures are unavailable", metadata: ["error": "\(error)"])
        }
        await self.pipeline.refreshRedisServerMetrics()
    }
}
