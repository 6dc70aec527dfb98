import TallyMetrics
import TallyPipeline
import Testing

@Suite struct EventIngestorTests {
    @Test(arguments: Backend.allCases)
    func aValidBatchIsAppendedWholeAndCountedByType(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            let metrics = try PipelineMetrics(registry: MetricsRegistry())
            let ingestor = EventIngestor(log: log, metrics: metrics)
            let body = """
            {"type":"session_start","session_id":"s"}
            {"type":"completion","session_id":"s","latency_ms":42,"accepted":true}
            {"type":"completion","session_id":"s","latency_ms":58,"accepted":false}
            """
            let accepted = try await ingestor.ingest(Array(body.utf8), format: .ndjson)
            #expect(accepted.count == 3)
            #expect(metrics.ingested.labels("completion").value == 2)
            #expect(try await log.figures().length == 3)
            try await WorkerPoolTests.drain(log, workers: 1)
            #expect(try await store.window(now: unixNow()).completions == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func aBatchWithOneBadItemAppendsNothing(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            let ingestor = EventIngestor(log: log)
            let body = #"[{"type":"session_start","session_id":"s"},{"type":"tool_call","session_id":"s","tool":"grep"}]"#
            do {
                try await ingestor.ingest(Array(body.utf8))
                Issue.record("a batch with a bad item was accepted")
            } catch let error as EventBatchError {
                #expect(error.index == 1 && error.field == "success")
            }
            #expect(try await log.figures().length == 0)
        }
    }
}
