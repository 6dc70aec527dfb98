import TallyPipeline

/// The exact figures a set of events must produce, computed offline from the events
/// themselves: what the shared state is compared with after faults.
struct ExactTotals: Equatable, CustomStringConvertible {
    var tools: [String: OutcomeCounts] = [:]
    var errors: [String: Double] = [:]
    var completions = 0.0
    var accepted = 0.0

    init() {}

    init(_ events: some Sequence<TelemetryEvent>) {
        for event in events { self.add(event) }
    }

    mutating func add(contentsOf events: some Sequence<TelemetryEvent>) {
        for event in events { add(event) }
    }

    mutating func add(_ event: TelemetryEvent) {
        switch event.type {
        case .completion:
            completions += 1
            if event.accepted == true { accepted += 1 }
        case .error:
            errors[event.code!, default: 0] += 1
        case .toolCall:
            if event.success == true {
                tools[event.tool!, default: OutcomeCounts()].success += 1
            } else {
                tools[event.tool!, default: OutcomeCounts()].failure += 1
            }
        case .sessionStart, .sessionEnd:
            break
        }
    }

    /// Removes `other`'s figures (events known to be stored besides those under test).
    mutating func subtract(_ other: ExactTotals) {
        completions -= other.completions
        accepted -= other.accepted
        for (code, count) in other.errors {
            errors[code, default: 0] -= count
            if errors[code] == 0 { errors[code] = nil }
        }
        for (tool, counts) in other.tools {
            var mine = tools[tool, default: OutcomeCounts()]
            mine.success -= counts.success
            mine.failure -= counts.failure
            tools[tool] = mine.success == 0 && mine.failure == 0 ? nil : mine
        }
    }

    /// What the store holds now (its window must still cover every event).
    static func read(from store: any StateReader, now: Double?) async throws -> ExactTotals {
        var totals = ExactTotals()
        totals.tools = try await store.toolCallTotals()
        totals.errors = try await store.errorCodeTotals()
        let window = try await store.window(now: now)
        totals.completions = window.completions
        totals.accepted = window.accepted
        return totals
    }

    var description: String {
        "completions \(completions) (accepted \(accepted)), tool calls \(tools.values.reduce(0) { $0 + $1.success + $1.failure }), errors \(errors.values.reduce(0, +))"
    }
}
