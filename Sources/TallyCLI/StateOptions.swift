import ArgumentParser
import TallyPipeline

/// `--window`, for every command that reads or writes the shared state (`serve`, `worker`).
struct StateOptions: ParsableArguments {
    @Option(help: "Sliding window of the global metrics in seconds, a multiple of 10 up to 3600; every node must use the same (TALLY_WINDOW).")
    var window = Int(environment("WINDOW") ?? "") ?? 300

    /// The state configuration these options describe.
    var state: StateConfiguration {
        var state = StateConfiguration()
        state.windowSeconds = window
        return state
    }

    func validate() throws {
        do {
            try state.validate()
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// The productivity score's settings, for `serve` (the score leader runs in every `tally serve`).
struct ScoreOptions: ParsableArguments {
    @Option(help: "Score weights, e.g. acceptance=0.5,tools=0.3,latency=0.2; unnamed components keep their defaults (TALLY_SCORE_WEIGHTS).")
    var scoreWeights = environment("SCORE_WEIGHTS") ?? ""

    @Option(help: "Completion latency (p95, seconds) at or below which the latency component is 1 (TALLY_SCORE_LATENCY_TARGET).")
    var scoreLatencyTarget = Double(environment("SCORE_LATENCY_TARGET") ?? "") ?? ScoreFormula.default.latencyTargetSeconds

    @Option(help: "Seconds between two computations of the score, 1…3600 (TALLY_SCORE_PERIOD).")
    var scorePeriod = Double(environment("SCORE_PERIOD") ?? "") ?? 30

    /// The formula these options describe; throws for unreadable weights.
    func formula() throws(InvalidSetting) -> ScoreFormula {
        var formula = ScoreFormula()
        if !scoreWeights.isEmpty { try formula.setWeights(scoreWeights) }
        formula.latencyTargetSeconds = scoreLatencyTarget
        try formula.validate()
        return formula
    }

    func period() throws -> Duration { try optionDuration(seconds: scorePeriod, option: "--score-period") }

    func validate() throws {
        do {
            _ = try formula()
        } catch {
            throw ValidationError(error.description)
        }
        guard scorePeriod >= 1, scorePeriod <= 3600 else { throw ValidationError("--score-period must be 1…3600 seconds, got \(scorePeriod)") }
    }
}
