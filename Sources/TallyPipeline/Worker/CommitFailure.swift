import TallyRedis

/// What a failed commit turned out to be, the label of `tally_commit_failures_total`.
///
/// - `poison`: the failure belonged to an entry of the batch; that entry was
///   isolated and dead-lettered, and the rest of the batch applied.
/// - `systemic`: the server, the connection or the stored state failed, so
///   every batch fails alike; nothing was dead-lettered and the entries wait.
///   Failures that were never traced to an entry count here too.
public enum CommitFailureKind: String, Sendable, Hashable, CaseIterable {
    case poison
    case systemic
}

/// How a worker reads a commit error before isolating anything.
///
/// The rule that tells poison from systemic (documented in `docs/pipeline.md`):
///
/// 1. ``systemic`` at once, whatever the batch: a connection or pool failure,
///    a server condition (`READONLY`, `OOM`, `MISCONF`, `BUSY`, `LOADING`,
///    `NOSCRIPT`, `NOPERM`, `WRONGTYPE`, `NOGROUP`, cluster redirections and
///    outages, a script that does not compile), and the apply step's
///    refusals because of the stored state (``ApplyError/Kind/state``: a key
///    of the wrong type, a stored value that is not a finite number, a server
///    older than 7.0).
/// 2. ``input``: the apply step refused the batch's own numbers
///    (``ApplyError/Kind/input``). The batch is split until the entries that
///    carry them are alone; they are dead-lettered.
/// 3. ``unknown``, anything else: the batch is split the same way. An entry
///    that still fails alone is poison if some other part of its batch
///    committed, or if it was alone in its batch; when every entry of a batch
///    of two or more fails alone and none commits, the failure is shared by
///    every part: systemic.
enum CommitErrorClass: Sendable, Hashable {
    case systemic
    case input
    case unknown

    /// Server error codes that describe the server, never a batch.
    static let systemicServerCodes: Set<String> = [
        "READONLY", "OOM", "MISCONF", "BUSY", "LOADING", "NOSCRIPT", "NOPERM", "NOAUTH", "WRONGTYPE", "NOGROUP",
        "MASTERDOWN", "NOREPLICAS", "CLUSTERDOWN", "TRYAGAIN", "CROSSSLOT", "MOVED", "ASK", "EXECABORT", "UNBLOCKED",
        "TALLYSTATE",
    ]

    init(_ error: any Error) {
        switch error {
        case let refusal as ApplyError:
            self = refusal.kind == .input ? .input : .systemic
        case is PipelineReplyError:
            // A reply the apply step could not read: split like any failure not yet traced.
            self = .unknown
        case let redisError as RedisError:
            switch redisError {
            case .server(_, let message):
                if let code = redisError.serverErrorCode, Self.systemicServerCodes.contains(code) {
                    self = .systemic
                } else if message.contains("Error compiling script") || message.hasPrefix("ERR unknown command") {
                    self = .systemic
                } else {
                    self = .unknown
                }
            case .unexpectedReply:
                self = .unknown
            default:
                // Connections, deadlines, the pool, authentication: nothing to do with the batch.
                self = .systemic
            }
        default:
            self = .unknown
        }
    }
}
