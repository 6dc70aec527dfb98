import Foundation
import Logging

/// Computes the composite score on exactly one node at a time, every `period`.
///
/// Each round takes or renews the leader lock (`SET NX PX` semantics with a
/// fencing token from the store); only the holder computes, and it writes the
/// score with its token, which the store refuses if a newer leader has
/// written since — so a paused ex-leader cannot overwrite a newer result.
/// When the leader dies, another node takes over once the lock's TTL lapses.
///
/// The leader writes every round, also when the window holds no data: then it
/// writes a "no data" score (value nil) with a fresh `computed_at`. So the
/// score's age stays small on an idle system and grows only when no leader runs
/// (or it cannot write), which is what the staleness alert watches.
public final class ScoreLeader: Sendable {
    public let store: any StateStore
    public let node: String
    public let period: Duration
    public let lockTTL: Duration
    public let formula: ScoreFormula
    let logger: Logger
    let now: @Sendable () -> Double

    /// - Parameters:
    ///   - period: how often the score is computed (30 s by default).
    ///   - lockTTL: how long the lock outlives a silent leader; longer than `period` (45 s by default).
    ///   - now: unix seconds; decides the window the score is computed over and its `computed_at`.
    public init(store: any StateStore, node: String = UUID().uuidString, period: Duration = .seconds(30), lockTTL: Duration = .seconds(45),
                formula: ScoreFormula = .default, logger: Logger = Logger(label: "tally.pipeline.score"),
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.store = store
        self.node = node
        self.period = period
        self.lockTTL = lockTTL
        self.formula = formula
        self.logger = logger
        self.now = now
    }

    /// What one round did.
    enum Round {
        case notLeader
        /// Written; its value is nil when the window held no data.
        case stored(CompositeScore)
        /// A newer leader has written since this node's lock was taken.
        case refused
    }

    /// One round: returns the score written (its value nil when the window held no data), or nil
    /// when this node is not the leader or a newer leader's score stands.
    @discardableResult
    public func runOnce() async throws -> CompositeScore? {
        if case .stored(let score) = try await round() { return score }
        return nil
    }

    func round() async throws -> Round {
        guard let token = try await store.acquireLeadership(node: node, ttl: lockTTL) else { return .notLeader }
        let at = now()
        let window = try await store.window(now: at)
        let score = CompositeScore(value: formula.score(for: window), computedAt: at, token: token)
        guard try await store.storeScore(score) else {
            logger.warning("score from \(node) with fencing token \(token) refused: a newer leader has written")
            return .refused
        }
        return .stored(score)
    }

    /// How long the leader waits before looking again while there is nothing to score: the
    /// first score appears about a second after the first events, not a whole period later.
    static let retryWithoutData = Duration.seconds(1)

    /// Runs rounds every `period` until the task is cancelled, then gives the lock up.
    /// While it leads and the window is empty it looks again every second (one window read and
    /// one "no data" write), so the first score does not wait for a whole period.
    public func run() async {
        while !Task.isCancelled {
            var wait = period
            do {
                if case .stored(let score) = try await round(), score.value == nil { wait = min(period, Self.retryWithoutData) }
            } catch {
                logger.error("score round on \(node) failed: \(error)")
            }
            do {
                try await Task.sleep(for: wait)
            } catch {
                break
            }
        }
        try? await store.releaseLeadership(node: node)
    }
}
