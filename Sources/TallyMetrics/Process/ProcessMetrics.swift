#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The standard process metrics every Prometheus client exports, read at scrape
/// time (a collect hook), never on the recording path:
/// `process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds` and
/// `process_start_time_seconds`.
///
/// On Linux every value comes from `/proc/self` (`stat`, `fd`) and
/// `getrlimit`, as client_golang and Python's `prometheus_client` read them. On
/// other systems only what POSIX offers is exported (CPU time and the file
/// descriptor limit); the rest is not registered rather than reported wrong.
///
/// ```swift
/// try ProcessMetrics.register(in: registry)
/// ```
public final class ProcessMetrics: Sendable {
    let cpuSeconds: MirroredCounter
    let residentMemory: Gauge?
    let virtualMemory: Gauge?
    let openFileDescriptors: Gauge?
    let maxFileDescriptors: Gauge
    let startTime: Gauge?
    let reader: ProcessStatReader

    /// Registers the process metrics in `registry` and reads them before every render.
    /// Throws if one of the names is already registered.
    @discardableResult
    public static func register(in registry: MetricsRegistry) throws(MetricsRegistryError) -> ProcessMetrics {
        let metrics = try ProcessMetrics(registry: registry)
        registry.addCollectHook { metrics.collect() }
        metrics.collect()
        return metrics
    }

    init(registry: MetricsRegistry) throws(MetricsRegistryError) {
        reader = ProcessStatReader()
        cpuSeconds = try registry.register(MirroredCounter.self, name: "process_cpu_seconds_total",
                                           help: "Total user and system CPU time spent in seconds.")
        maxFileDescriptors = try registry.register(Gauge.self, name: "process_max_fds", help: "Maximum number of open file descriptors.")
        if reader.hasProcFilesystem {
            residentMemory = try registry.register(Gauge.self, name: "process_resident_memory_bytes", help: "Resident memory size in bytes.")
            virtualMemory = try registry.register(Gauge.self, name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.")
            openFileDescriptors = try registry.register(Gauge.self, name: "process_open_fds", help: "Number of open file descriptors.")
            startTime = try registry.register(Gauge.self, name: "process_start_time_seconds",
                                              help: "Start time of the process since the Unix epoch in seconds.")
        } else {
            residentMemory = nil
            virtualMemory = nil
            openFileDescriptors = nil
            startTime = nil
        }
    }

    /// Reads the current values into the series. A value that cannot be read is NaN
    /// until the next successful read (the CPU counter keeps its last value).
    func collect() {
        let sample = reader.sample()
        if let cpu = sample.cpuSeconds { cpuSeconds.set(cpu) }
        maxFileDescriptors.set(sample.maxFileDescriptors ?? .nan)
        residentMemory?.set(sample.residentBytes ?? .nan)
        virtualMemory?.set(sample.virtualBytes ?? .nan)
        openFileDescriptors?.set(sample.openFileDescriptors ?? .nan)
        startTime?.set(sample.startTime ?? .nan)
    }
}

/// One reading of the process's figures; nil where the system does not tell.
package struct ProcessSample: Sendable {
    package var cpuSeconds: Double?
    package var residentBytes: Double?
    package var virtualBytes: Double?
    package var openFileDescriptors: Double?
    package var maxFileDescriptors: Double?
    package var startTime: Double?
}

/// Reads ``ProcessSample``s with plain POSIX calls (no Foundation on the scrape path).
package struct ProcessStatReader: Sendable {
    let hasProcFilesystem: Bool
    let ticksPerSecond: Double
    let pageSize: Double
    /// When the system booted, in Unix seconds: the real-time clock minus the time since boot,
    /// read once. (`btime` of `/proc/stat` is whole seconds, up to 1 s early.)
    let bootTime: Double?

    /// - Parameter process: the directory of `/proc` to read: `self`, or another process's id (in tests).
    ///   The file descriptor limit is always this process's (`getrlimit`).
    package init(process: String = "self") {
        self.processDirectory = "/proc/" + process
        #if os(Linux)
        hasProcFilesystem = access(processDirectory + "/stat", R_OK) == 0
        #else
        hasProcFilesystem = false
        #endif
        ticksPerSecond = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        pageSize = Double(max(1, sysconf(Int32(_SC_PAGESIZE))))
        bootTime = hasProcFilesystem ? Self.bootTime() : nil
    }

    let processDirectory: String

    package func sample() -> ProcessSample {
        var sample = ProcessSample()
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        if getrlimit(resource, &limit) == 0 {
            sample.maxFileDescriptors = limit.rlim_cur == rlim_t.max ? .infinity : Double(limit.rlim_cur)  // RLIM_INFINITY
        }
        if hasProcFilesystem {
            if let stat = Self.parseStat(Self.readFile(processDirectory + "/stat")) {
                sample.cpuSeconds = Double(stat.userTicks + stat.systemTicks) / ticksPerSecond
                sample.virtualBytes = Double(stat.virtualBytes)
                sample.residentBytes = Double(stat.residentPages) * pageSize
                if let bootTime { sample.startTime = bootTime + Double(stat.startTicks) / ticksPerSecond }
            }
            sample.openFileDescriptors = Self.countEntries(processDirectory + "/fd").map(Double.init)
        } else {
            var usage = rusage()
            #if canImport(Glibc)
            let who = __rusage_who_t(RUSAGE_SELF.rawValue)
            #else
            let who = RUSAGE_SELF
            #endif
            if getrusage(who, &usage) == 0 {
                func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
                sample.cpuSeconds = seconds(usage.ru_utime) + seconds(usage.ru_stime)
            }
        }
        return sample
    }

    /// The fields of `/proc/<pid>/stat` Tally exports.
    package struct Stat: Equatable {
        package var userTicks: UInt64
        package var systemTicks: UInt64
        package var startTicks: UInt64
        package var virtualBytes: UInt64
        package var residentPages: UInt64

        package init(userTicks: UInt64, systemTicks: UInt64, startTicks: UInt64, virtualBytes: UInt64, residentPages: UInt64) {
            self.userTicks = userTicks
            self.systemTicks = systemTicks
            self.startTicks = startTicks
            self.virtualBytes = virtualBytes
            self.residentPages = residentPages
        }
    }

    /// Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses and
    /// may itself hold spaces and parentheses, so fields are counted from the last `)`.
    package static func parseStat(_ bytes: [UInt8]?) -> Stat? {
        guard let bytes, let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After the name, field 3 (the state) comes first: utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
        let fields = bytes[(close + 1)...].split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") })
        func number(_ field: Int) -> UInt64? {
            field - 3 < fields.count ? UInt64(String(decoding: fields[field - 3], as: UTF8.self)) : nil
        }
        guard let user = number(14), let system = number(15), let start = number(22), let virtual = number(23),
              let rss = number(24) else { return nil }
        return Stat(userTicks: user, systemTicks: system, startTicks: start, virtualBytes: virtual, residentPages: rss)
    }

    /// Unix time of the boot: `CLOCK_REALTIME − CLOCK_BOOTTIME`, the base of `starttime` in `/proc/<pid>/stat`.
    static func bootTime() -> Double? {
        #if os(Linux)
        var realtime = timespec()
        var sinceBoot = timespec()
        guard clock_gettime(CLOCK_REALTIME, &realtime) == 0, clock_gettime(CLOCK_BOOTTIME, &sinceBoot) == 0 else { return nil }
        return Double(realtime.tv_sec - sinceBoot.tv_sec) + Double(realtime.tv_nsec - sinceBoot.tv_nsec) / 1e9
        #else
        return nil
        #endif
    }

    /// Entries of a directory, `.` and `..` excepted (the descriptor reading it included, as other clients count).
    static func countEntries(_ path: String) -> Int? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == UInt8(ascii: ".") && (name[1] == 0 || (name[1] == UInt8(ascii: ".") && name[2] == 0))
            }
            if !isDot { count += 1 }
        }
        return count
    }

    /// A small file of `/proc` (whose size `stat` reports as 0), read whole.
    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > 1 << 20 { return nil }  // no /proc file Tally reads is this large
        }
    }
}
