import Foundation
import TallyMetrics
import TallyTesting
import Testing

/// The process collector reports what the kernel says about this process, read at scrape time.
@Suite struct ProcessMetricsTests {
    static func samples(_ registry: MetricsRegistry) -> ExpositionSamples {
        ExpositionSamples(registry.renderString())
    }

    /// `VmRSS` of `/proc/<pid>/status`, in bytes: a second source for the resident size.
    static func statusResidentBytes(_ pid: Int32) throws -> Double {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kilobytes = try #require(Double(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kilobytes * 1024
    }

    /// A sleeping child holding 64 MB and `extraFiles` more open descriptors than a plain one: its
    /// figures hold still while they are read (this test process's own change with the tests running
    /// beside it), and its resident size is large enough that the kernel's per-thread RSS counters
    /// (which `stat` may show up to 64 pages behind `status`) are well inside 10 %.
    static func sleepingChild(extraFiles: Int) throws -> Process {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/bash")  // dash opens descriptors 0…9 only
        let opens = (0..<extraFiles).map { "exec \(10 + $0)</dev/null" }.joined(separator: "; ")
        let hold = #"exec python3 -c "import time; b = bytearray(64000000); b[::4096] = b'x' * len(b[::4096]); open('/proc/self/comm', 'w').write('holding'); time.sleep(60)""#
        child.arguments = ["-c", (opens.isEmpty ? "" : opens + "; ") + hold]
        child.standardInput = FileHandle.nullDevice
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        return child
    }

    /// Waits until the child holds its memory (it renames itself `holding` then; its descriptors are all open by then).
    static func waitUntilSleeping(_ child: Process) async throws {
        let sleeping = try await poll(timeout: .seconds(30)) {
            ((try? String(contentsOfFile: "/proc/\(child.processIdentifier)/comm", encoding: .utf8)) ?? "").hasPrefix("holding")
        }
        try #require(sleeping)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/stat")))
    func theValuesAreThoseTheKernelReports() async throws {
        let plain = try Self.sleepingChild(extraFiles: 0)
        let busy = try Self.sleepingChild(extraFiles: 20)
        defer { plain.terminate(); busy.terminate() }
        try await Self.waitUntilSleeping(plain)
        try await Self.waitUntilSleeping(busy)
        let pid = busy.processIdentifier
        let sample = ProcessStatReader(process: String(pid)).sample()

        // Resident memory: within 10 % of /proc/<pid>/status.
        let resident = try #require(sample.residentBytes)
        let status = try Self.statusResidentBytes(pid)
        #expect(status > 60_000_000, "VmRSS \(status)")
        #expect(abs(resident - status) <= 0.1 * status, "resident \(resident), VmRSS \(status)")
        #expect(try #require(sample.virtualBytes) >= resident)

        // Start time: within 1 s of the start `ps` reports. It reports whole seconds elapsed at some moment
        // between `before` and `after`, so the start lies in (before − elapsed − 1, after − elapsed].
        let before = Date().timeIntervalSince1970
        let ps = try await ExternalTool.run("/bin/ps", ["-o", "etimes=", "-p", String(pid)])
        let after = Date().timeIntervalSince1970
        let elapsed = try #require(Double(ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let reported = try #require(sample.startTime)
        let started = after - elapsed
        #expect(reported <= after - elapsed + 0.05 && reported > before - elapsed - 1.05,
                "start time \(reported), ps says \(before - elapsed - 1)…\(after - elapsed)")
        #expect(try #require(sample.cpuSeconds) < 1)

        // Open descriptors: what /proc/<pid>/fd lists, and 20 more for the child that opened 20 more.
        let listed = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        #expect(sample.openFileDescriptors == Double(listed))
        let plainFiles = try #require(ProcessStatReader(process: String(plain.processIdentifier)).sample().openFileDescriptors)
        #expect(sample.openFileDescriptors == plainFiles + 20)

        // This process: the limit is getrlimit's, and every figure is there.
        let own = ProcessStatReader().sample()
        var limit = rlimit()
        #expect(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        #expect(own.maxFileDescriptors == Double(limit.rlim_cur))
        let registry = MetricsRegistry()
        try ProcessMetrics.register(in: registry)
        let samples = Self.samples(registry)
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
                     "process_max_fds", "process_start_time_seconds"] {
            let value = samples[name] ?? .nan
            #expect(value > 0 && value.isFinite, "\(name): \(value)")
        }
        let ownStart = try #require(samples["process_start_time_seconds"])
        #expect(ownStart <= Date().timeIntervalSince1970 && ownStart >= started - 86_400)
    }

    @Test func cpuTimeGrowsWithWorkDone() throws {
        let registry = MetricsRegistry()
        try ProcessMetrics.register(in: registry)
        let before = try #require(Self.samples(registry)["process_cpu_seconds_total"])
        var clock = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &clock)
        let cpuStart = Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
        var x = 0.0
        var cpuNow = cpuStart
        while cpuNow - cpuStart < 0.3 {
            for i in 0..<100_000 { x += Double(i).squareRoot() }
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &clock)
            cpuNow = Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
        }
        #expect(x > 0)
        let after = try #require(Self.samples(registry)["process_cpu_seconds_total"])
        // Clock ticks are 10 ms; the other tests of the process add CPU time too, never less.
        #expect(after - before >= 0.25, "process_cpu_seconds_total went from \(before) to \(after) after 0.3 s of CPU")
    }

    @Test func theExpositionPassesPromtoolAndTheOpenMetricsParser() async throws {
        let registry = MetricsRegistry()
        try ProcessMetrics.register(in: registry)
        try BuildInfo.register(in: registry, name: "app_build_info", labels: [("version", "1.2.3"), ("revision", "9f2c1e0")])
        let problems = try await ExpositionCheckers.promtoolProblems(registry.render(format: .prometheusText))
        #expect(problems.isEmpty, "promtool: \(problems)")
        let openMetrics = try await ExpositionCheckers.openMetricsSamples(registry.render(format: .openMetrics))
        #expect(openMetrics.error == nil, "\(openMetrics.error ?? "")")
        let names = Set(openMetrics.samples.map { String($0.prefix { $0 != "{" }) })
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
                     "process_max_fds", "process_start_time_seconds"] {
            #expect(names.contains(name), "\(name) missing from \(names.sorted())")
        }
        #expect(openMetrics.samples.contains(#"app_build_info{revision="9f2c1e0",version="1.2.3"} 1.0"#))
    }

    @Test func registeringTwiceIsRefusedNotDoubled() throws {
        let registry = MetricsRegistry()
        try ProcessMetrics.register(in: registry)
        #expect(throws: MetricsRegistryError.self) { try ProcessMetrics.register(in: registry) }
        #expect(throws: MetricsRegistryError.self) {
            try BuildInfo.register(in: registry, name: "process_open_fds", labels: [("version", "1")])
        }
    }

    @Test func statLinesAreReadFromTheLastParenthesis() throws {
        // A command name may hold spaces and parentheses; fields are counted after the last ')'.
        let line = "4242 (we ird) (name) S 1 4242 4242 0 -1 4194560 1500 0 3 0 250 75 0 0 20 0 9 0 123456 987654321 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0\n"
        let stat = try #require(ProcessStatReader.parseStat(Array(line.utf8)))
        #expect(stat == ProcessStatReader.Stat(userTicks: 250, systemTicks: 75, startTicks: 123456, virtualBytes: 987654321, residentPages: 2048))
        #expect(ProcessStatReader.parseStat(Array("4242 (truncated) S 1 2".utf8)) == nil)
        #expect(ProcessStatReader.parseStat(nil) == nil)
    }
}
