import Foundation
import Logging
import TallyCore
import TallyRedis

/// What Tally checks on a Redis server before it uses it, in one place: ``RedisEventLog/prepare()``
/// runs it for `tally serve --redis` and `tally worker`, and `tally dlq` runs it before it
/// touches the dead letters.
///
/// - **Version ≥ 7.0** (`INFO server` `redis_version`): the log relies on `XAUTOCLAIM` reporting
///   deleted entries (7.0), besides `ZADD GT`/`LT` and `ZMSCORE` (6.2). An older server, or one
///   whose version cannot be read, is refused.
/// - **No eviction** (`INFO memory` `maxmemory_policy`, else `CONFIG GET maxmemory-policy`):
///   every policy but `noeviction` may delete Tally's keys under memory pressure — the `volatile-*`
///   ones included, since window buckets, the leader lock and the dedupe sets carry a TTL — and
///   an evicted bucket or session set makes the global numbers silently wrong. Such a server is
///   refused unless eviction is explicitly allowed (`--allow-eviction`), and then a warning is
///   logged. A policy that cannot be read at all is a warning.
///
/// The decision itself is ``evaluate(_:allowEviction:)``, a pure function of what the server reported.
public enum RedisPreflight {
    /// The oldest Redis Tally runs on.
    package static let minimumVersion = RedisVersion(major: 7, minor: 0, patch: 0)

    /// What the server reported.
    public struct Findings: Sendable, Hashable {
        /// `redis_version` from `INFO server`, as given.
        public var version: String?
        /// `maxmemory-policy`.
        public var evictionPolicy: String?

        public init(version: String?, evictionPolicy: String?) {
            self.version = version
            self.evictionPolicy = evictionPolicy
        }
    }

    /// Why a server is refused; the description is one line for an operator.
    public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        case versionUnknown
        case versionTooOld(String)
        case evictionPolicy(String)
        /// The state was built with other shared settings (window, bucket width, session timeout, caps).
        case settingsDiffer(key: String, stored: String, configured: String)
        /// The deployment was started with another `--shards` count.
        case shardCountDiffers(stored: Int, configured: Int)

        public var description: String {
            switch self {
            case .versionUnknown:
                return "cannot tell the Redis server's version (INFO server has no readable redis_version); Tally needs Redis \(RedisPreflight.minimumVersion) or newer"
            case .versionTooOld(let version):
                return "Redis \(version) is too old: Tally needs Redis \(RedisPreflight.minimumVersion) or newer"
            case .settingsDiffer(let key, let stored, let configured):
                return "the shared state was built with '\(stored)' (\(key)) and this node has '\(configured)': every node of a deployment must run with the same --window; to change it, stop every node and follow docs/configuration.md"
            case .shardCountDiffers(let stored, let configured):
                return "this deployment runs \(stored) shard(s) and this node was started with --shards \(configured): every node must use --shards \(stored); to change the count, follow the resharding procedure in docs/configuration.md"
            case .evictionPolicy(let policy):
                return "Redis maxmemory-policy is '\(policy)': Redis may evict Tally's state keys and the metrics would be silently wrong; set it to 'noeviction' (CONFIG SET maxmemory-policy noeviction), or pass --allow-eviction (TALLY_ALLOW_EVICTION=1) to run anyway"
            }
        }
    }

    /// The decision: throws the refusal, or returns the warnings to log (empty when all is well).
    public static func evaluate(_ findings: Findings, allowEviction: Bool) throws(Refusal) -> [String] {
        guard let text = findings.version, let version = RedisVersion(text) else { throw .versionUnknown }
        guard version >= minimumVersion else { throw .versionTooOld(text) }
        guard let policy = findings.evictionPolicy else {
            return ["cannot read Redis's maxmemory-policy: Tally needs 'noeviction', or evicted state keys make the metrics silently wrong"]
        }
        guard policy != "noeviction" else { return [] }
        guard allowEviction else { throw .evictionPolicy(policy) }
        return ["Redis maxmemory-policy is '\(policy)': eviction is allowed, so Tally runs anyway, but an evicted state key makes the metrics silently wrong; watch tally_redis_evicted_keys_total"]
    }

    /// Reads the version and the eviction policy from the server.
    public static func findings(of client: any RedisClient) async throws -> Findings {
        let server = RedisInfoText.fields(try await client.info("server"))
        let memory = RedisInfoText.fields(try await client.info("memory"))
        var policy = memory["maxmemory_policy"]
        if policy == nil {
            policy = try? await client.configGet("maxmemory-policy")["maxmemory-policy"]
        }
        return Findings(version: server["redis_version"], evictionPolicy: policy)
    }

    /// Reads the server's findings and decides: throws a ``Refusal`` (or the error of a failed read),
    /// logs the warnings, and returns what it found.
    @discardableResult
    public static func check(_ client: any RedisClient, allowEviction: Bool, logger: Logger) async throws -> Findings {
        let found = try await findings(of: client)
        for warning in try evaluate(found, allowEviction: allowEviction) {
            logger.warning("\(warning)")
        }
        return found
    }
}

/// A Redis server version, `major.minor.patch`, compared numerically (`7.10` is newer than `7.2`).
package struct RedisVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(major: Int, minor: Int, patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses `redis_version` as `INFO server` gives it: `7.2.4`, `6.2`, `7`; a suffix after the
    /// numbers (`7.0.0-rc1`, `7.2.4 (valkey)`) is ignored. Nil when it does not start with a number.
    public init?(_ text: String) {
        let numeric = text.trimmingCharacters(in: .whitespaces).prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let parts = numeric.split(separator: ".", omittingEmptySubsequences: false).prefix(3)
        guard let first = parts.first, !first.isEmpty else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard let value = Int(part) else { break }
            numbers.append(value)
        }
        guard let major = numbers.first else { return nil }
        self.init(major: major, minor: numbers.count > 1 ? numbers[1] : 0, patch: numbers.count > 2 ? numbers[2] : 0)
    }

    public static func < (a: RedisVersion, b: RedisVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public var description: String { patch == 0 ? "\(major).\(minor)" : "\(major).\(minor).\(patch)" }
}
