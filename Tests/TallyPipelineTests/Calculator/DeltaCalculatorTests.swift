import TallyPipeline
import Testing

@Suite struct DeltaCalculatorTests {
    static let events: [TelemetryEvent] = [
        .sessionStart(id: "1", session: "s", at: 1_000),
        .completion(id: "2", session: "s", at: 1_004.5, latencyMilliseconds: 250, accepted: true),
        .completion(id: "3", session: "s", at: 1_012, latencyMilliseconds: 0, accepted: false),
        .toolCall(id: "4", session: "s", at: 1_013, tool: "grep", success: true),
        .toolCall(id: "5", session: "s", at: 1_019.9, tool: "grep", success: false),
        .toolCall(id: "6", session: "t", at: 1_020, tool: "edit", success: true),
        .clientError(id: "7", session: "t", at: 1_021, code: "timeout"),
        .sessionEnd(id: "8", session: "s", at: 1_030),
    ]

    @Test func eventsLandInTheBucketOfTheirOwnTimestamp() {
        let delta = DeltaCalculator.delta(for: Self.events.records, bucketSeconds: 10)
        #expect(Set(delta.buckets.keys) == [1_000, 1_010, 1_020])
        #expect(delta.buckets[1_000]?.completions == 1 && delta.buckets[1_000]?.accepted == 1)
        #expect(delta.buckets[1_000]?.latency.sum == 0.25)
        #expect(delta.buckets[1_010]?.latency.zeroCount == 1)
        #expect(delta.buckets[1_010]?.toolCalls == ["grep": OutcomeCounts(success: 1, failure: 1)])
        #expect(delta.buckets[1_020]?.toolCalls == ["edit": OutcomeCounts(success: 1)])
        #expect(delta.errorCodes == ["timeout": 1])
        #expect(delta.eventsByType == [.sessionStart: 1, .completion: 2, .toolCall: 3, .error: 1, .sessionEnd: 1])
    }

    /// The seeds' bug #4: tool calls must reach the session's tool count.
    @Test func everyToolCallCountsTowardsItsSession() {
        let delta = DeltaCalculator.delta(for: Self.events.records, bucketSeconds: 10)
        #expect(delta.sessions["s"] == SessionDelta(firstSeen: 1_000, lastSeen: 1_030, toolCalls: 2, endedAt: 1_030))
        #expect(delta.sessions["t"] == SessionDelta(firstSeen: 1_020, lastSeen: 1_021, toolCalls: 1, endedAt: nil))
    }

    @Test func theCalculatorIsPureAndSplitBatchesAddUp() {
        let whole = DeltaCalculator.delta(for: Self.events.records, bucketSeconds: 10)
        #expect(DeltaCalculator.delta(for: Self.events.records, bucketSeconds: 10) == whole)
        let first = DeltaCalculator.delta(for: Array(Self.events.prefix(4)).records, bucketSeconds: 10)
        let second = DeltaCalculator.delta(for: Array(Self.events.dropFirst(4)).records, bucketSeconds: 10)
        #expect(first.eventsByType.values.reduce(0, +) + second.eventsByType.values.reduce(0, +) == 8)
        #expect((first.toolCalls["grep"] ?? OutcomeCounts()) + (second.toolCalls["grep"] ?? OutcomeCounts()) == whole.toolCalls["grep"])
    }

    @Test func weightsScaleEveryCount() {
        let records = [EventRecord(event: Self.events[3], weight: 4), EventRecord(event: Self.events[1], weight: 2)]
        let delta = DeltaCalculator.delta(for: records, bucketSeconds: 10)
        #expect(delta.toolCalls["grep"] == OutcomeCounts(success: 4))
        #expect(delta.sessions["s"]?.toolCalls == 4)
        #expect(delta.buckets[1_000]?.completions == 2 && delta.buckets[1_000]?.latency.count == 2)
        #expect(delta.eventsByType == [.toolCall: 1, .completion: 1])
    }
}
