import TallyCore
import TallyMetrics

/// A Redis server's health as its `INFO` reply tells it, for an application's
/// own Redis (prefix `redis`, the default) or Tally's (`tally_redis`):
/// `<prefix>_up`, `_used_memory_bytes`, `_maxmemory_bytes` (0 = no limit),
/// `_connected_clients`, `_blocked_clients`, and the server's own counters
/// mirrored: `_evicted_keys_total`, `_keyspace_hits_total`,
/// `_keyspace_misses_total`, `_commands_processed_total`.
///
/// The kit has no Redis client of its own: give it the `INFO` text from the
/// client the application uses, with ``refresh(info:)`` or the polling loop
/// ``run(every:info:)``. Until the first successful read, and whenever a read
/// fails, `_up` is 0 and the gauges are NaN (never stale numbers).
/// Thread-safe.
public struct RedisInfoMetrics: Sendable {
    /// The `INFO` sections the metrics come from (one `INFO` call with several sections needs Redis 7).
    public static let sections = ["memory", "stats", "clients"]

    let up: Gauge
    let gauges: [(field: String, series: Gauge)]
    let counters: [(field: String, series: MirroredCounter)]

    public init(registry: MetricsRegistry, prefix: String = "redis") throws {
        up = try registry.register(Gauge.self, name: prefix + "_up", help: "Whether the last INFO read of the Redis server succeeded (1) or not (0).")
        gauges = [
            ("used_memory", try registry.register(Gauge.self, name: prefix + "_used_memory_bytes", help: "Redis INFO memory used_memory.")),
            ("maxmemory", try registry.register(Gauge.self, name: prefix + "_maxmemory_bytes", help: "Redis maxmemory (0 = no limit).")),
            ("connected_clients", try registry.register(Gauge.self, name: prefix + "_connected_clients", help: "Redis INFO clients connected_clients.")),
            ("blocked_clients", try registry.register(Gauge.self, name: prefix + "_blocked_clients", help: "Redis INFO clients blocked_clients (in a blocking command).")),
        ]
        counters = [
            ("evicted_keys", try registry.register(MirroredCounter.self, name: prefix + "_evicted_keys_total", help: "Redis INFO stats evicted_keys.")),
            ("keyspace_hits", try registry.register(MirroredCounter.self, name: prefix + "_keyspace_hits_total", help: "Redis INFO stats keyspace_hits.")),
            ("keyspace_misses", try registry.register(MirroredCounter.self, name: prefix + "_keyspace_misses_total", help: "Redis INFO stats keyspace_misses.")),
            ("total_commands_processed", try registry.register(MirroredCounter.self, name: prefix + "_commands_processed_total",
                                                               help: "Redis INFO stats total_commands_processed.")),
        ]
        markDown()
    }

    /// Updates every series from an `INFO` reply (any sections; fields it lacks read NaN).
    public func refresh(info: String) {
        let fields = Self.fields(info)
        for (field, series) in gauges { series.set(fields[field].flatMap(Double.init) ?? .nan) }
        for (field, series) in counters { if let value = fields[field].flatMap(Double.init) { series.set(value) } }
        up.set(1)
    }

    /// The server could not be read: `_up` is 0 and the gauges NaN; the counters keep their last values.
    public func markDown() {
        up.set(0)
        for (_, series) in gauges { series.set(.nan) }
    }

    /// Reads `INFO` with `info` every `interval` until the task is cancelled.
    public func run(every interval: Duration = .seconds(5), info: @Sendable () async throws -> String) async {
        while !Task.isCancelled {
            do {
                refresh(info: try await info())
            } catch {
                markDown()
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// `name:value` lines of an INFO reply (section headers and blank lines skipped).
    public static func fields(_ info: String) -> [String: String] {
        RedisInfoText.fields(info)
    }
}
