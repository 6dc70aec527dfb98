import Foundation
import Logging
import Synchronization

/// Computes the leader's figures on exactly one node at a time: the
/// composite score every `period`, and the active sessions' figures
/// (``SessionFigures``) every `sessionsPeriod`.
///
/// Each round takes or renews the leader lock (`SET NX PX` semantics with a
/// fencing token from the store); only the holder computes, and it writes its
/// figures with its token, which the store refuses if a newer leader has
/// written since — so a paused ex-leader cannot overwrite a newer result.
/// When the leader dies, another node takes over once the lock's TTL lapses.
///
/// The leader writes a score every period, also when the window holds no
/// data: then it writes a "no data" score (value nil) with a fresh
/// `computed_at`. So the score's age stays small on an idle system and grows
/// only when no leader runs (or it cannot write), which is what the staleness
/// alert watches.
///
/// The session figures need every live session, so only the leader reads
/// them all (in chunks); every other read of them costs the same with ten
/// sessions or a million. Their scan waits at least four times as long as the
/// last one took, so it never takes more than a fifth of the leader's time.
///
/// `computed_at` and the window are the store's clock (Redis's `TIME`), not this node's.
public final class ScoreLeader: Sendable {
    public let store: any StateStore
    public let node: String
    public let period: Duration
    public let sessionsPeriod: Duration
    public let lockTTL: Duration
    public let formula: ScoreFormula
    let logger: Logger
    let clock: (@Sendable () -> Double)?
    private let schedule = Mutex(Schedule())

    /// When this node last computed each figure while leading (reset when it stops leading).
    struct Schedule {
        var lastScore: ContinuousClock.Instant?
        var lastScoreHadData = false
        var lastSessions: ContinuousClock.Instant?
        var lastScan: Duration = .zero
        /// Rounds fail (logged once until one succeeds).
        var failing = false
    }

    /// - Parameters:
    ///   - period: how often the score is computed (30 s by default).
    ///   - sessionsPeriod: how often the session figures are computed (5 s by default; longer when a
    ///     scan takes more than a fifth of it).
    ///   - lockTTL: how long the lock outlives a silent leader; longer than `period` (45 s by default).
    ///   - now: unix seconds, only for tests that replay a moment; nil (the default): the store's clock.
    public init(store: any StateStore, node: String = UUID().uuidString, period: Duration = .seconds(30), sessionsPeriod: Duration = .seconds(5),
                lockTTL: Duration = .seconds(45), formula: ScoreFormula = .default, logger: Logger = Logger(label: "tally.pipeline.score"),
                now: (@Sendable () -> Double)? = nil) {
        self.store = store
        self.node = node
        self.period = period
        self.sessionsPeriod = sessionsPeriod
        self.lockTTL = lockTTL
        self.formula = formula
        self.logger = logger
        self.clock = now
    }

    /// What one round did.
    enum Round {
        case notLeader
        /// Nothing was due.
        case idle
        /// Written: the score (its value nil when the window held no data) and the session figures,
        /// each when it was due.
        case stored(CompositeScore?, SessionFigures?)
        /// A newer leader has written since this node's lock was taken.
        case refused
    }

    /// One round computing both figures: returns the score written (its value nil when the window
    /// held no data), or nil when this node is not the leader or a newer leader's figures stand.
    @discardableResult
    public func runOnce() async throws -> CompositeScore? {
        if case .stored(let score, _) = try await round(force: true) { return score }
        return nil
    }

    func round(force: Bool = false) async throws -> Round {
        guard let token = try await store.acquireLeadership(node: node, ttl: lockTTL) else {
            schedule.withLock { $0 = Schedule() }
            return .notLeader
        }
        let started = ContinuousClock.now
        let (scoreDue, sessionsDue) = schedule.withLock { s in
            let score = force || !s.lastScoreHadData || s.lastScore.map { started - $0 >= period } ?? true
            let sessions = force || s.lastSessions.map { started - $0 >= max(sessionsPeriod, s.lastScan * 4) } ?? true
            return (score, sessions)
        }
        guard scoreDue || sessionsDue else { return .idle }
        let at: Double
        if let clock { at = clock() } else { at = try await store.now() }
        var score: CompositeScore?
        if scoreDue {
            score = CompositeScore(value: formula.score(for: try await store.window(now: at)), computedAt: at, token: token)
        }
        var sessions: SessionFigures?
        var scan = Duration.zero
        if sessionsDue {
            let scanStarted = ContinuousClock.now
            var figures = SessionFigures(computedAt: at)
            let minimum = store.configuration.minimumSessionMinutes
            try await store.scanActiveSessions(now: at) { chunk in
                for session in chunk { figures.add(session, minimumSessionMinutes: minimum) }
            }
            sessions = figures
            scan = ContinuousClock.now - scanStarted
        }
        guard try await store.storeLeaderFigures(score: score, sessions: sessions, token: token) else {
            logger.warning("figures from \(node) with fencing token \(token) refused: a newer leader has written")
            schedule.withLock { $0 = Schedule() }
            return .refused
        }
        schedule.withLock { s in
            s.failing = false
            if let score {
                s.lastScore = started
                s.lastScoreHadData = score.value != nil
            }
            if sessions != nil {
                s.lastSessions = started
                s.lastScan = scan
            }
        }
        return .stored(score, sessions)
    }

    /// How often the leader looks whether a figure is due (and renews its lock). While the window is
    /// empty the score is due at every look: the first score appears about a second after the first
    /// events, not a whole period later.
    static let tick = Duration.seconds(1)

    /// Runs rounds until the task is cancelled, then gives the lock up.
    public func run() async {
        while !Task.isCancelled {
            do {
                _ = try await round()
            } catch {
                let first = schedule.withLock { s in
                    defer { s.failing = true }
                    return !s.failing
                }
                if first { logger.error("leader round on \(node) failed (logged once until a round succeeds): \(error)") }
            }
            do {
                try await Task.sleep(for: min(Self.tick, period, sessionsPeriod))
            } catch {
                break
            }
        }
        try? await store.releaseLeadership(node: node)
    }
}
