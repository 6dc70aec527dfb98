import TallyKit
import BenchmarkHarness
import TallyMetrics
import TallyPipeline

/// The seeds' overhead case through the `WebSocketMetrics` facade: a loop whose
/// body does 50–60 ns of dependent work, bare, then recording every operation
/// with `recordMessageSent(bytes:)` (a counter and a histogram), then recording
/// only what a sampler at p = 0.1 and 0.01 keeps.
enum WebSocketOverheadBenchmark {
    static func run(quick: Bool) {
        let n = quick ? 2_000_000 : 20_000_000
        // Calibrate the rounds until the bare loop itself, measured as below, takes 50–60 ns.
        var rounds = opaque(40)
        var bare = 0.0
        for _ in 0..<12 {
            let candidate = rounds
            bare = Harness.nanosecondsPerOperation(iterations: n / 4, runs: 5) { count in
                var acc: UInt64 = 0
                for i in 0..<count { acc = dependentWork(acc ^ UInt64(i), rounds: candidate) }
                blackHole(acc)
            }
            if bare >= 50, bare <= 60 { break }
            rounds = opaque(max(1, Int((Double(rounds) * 55 / bare).rounded())))
        }
        let r = rounds
        bare = Harness.nanosecondsPerOperation(iterations: n) { count in
            var acc: UInt64 = 0
            for i in 0..<count { acc = dependentWork(acc ^ UInt64(i), rounds: r) }
            blackHole(acc)
        }
        let registry = MetricsRegistry()
        let socket = try! WebSocketMetrics(registry: registry)
        let sentBefore = { () -> Double in
            Double(ExpositionValue.read(registry, "websocket_messages_sent_total") ?? 0)
        }
        let exact = Harness.nanosecondsPerOperation(iterations: n) { count in
            var acc: UInt64 = 0
            for i in 0..<count {
                let result = dependentWork(acc ^ UInt64(i), rounds: r)
                acc = result
                socket.recordMessageSent(bytes: Int(result & 0xFFFF))
            }
            blackHole(acc)
        }
        let exactCount = sentBefore()
        let expected = Double(n) * 7 + Double(min(n, 10_000))
        func percent(_ t: Double) -> String { String(format: "%.2f %%", (t - bare) / bare * 100) }
        print("WebSocketMetrics overhead case: \(String(format: "%.1f", bare)) ns of work per operation (\(r) rounds), \(n) operations per run, median of 7")
        print(String(format: "  bare %.2f ns | exact recordMessageSent(bytes:) %.2f ns: overhead ", bare, exact) + percent(exact)
              + " (target < 5 %: " + ((exact - bare) / bare * 100 < 5 ? "met" : "NOT met") + ")")
        print("  every operation recorded: websocket_messages_sent_total = \(Int(exactCount)), expected \(Int(expected)): \(exactCount == expected ? "exact" : "MISMATCH")")
        for p in [0.1, 0.01] {
            let sampledRegistry = MetricsRegistry()
            let sampledSocket = try! WebSocketMetrics(registry: sampledRegistry)
            let sampler = AdaptiveSampler()
            sampler.setProbability(p)
            let sampled = Harness.nanosecondsPerOperation(iterations: n) { count in
                var acc: UInt64 = 0
                for i in 0..<count {
                    let result = dependentWork(acc ^ UInt64(i), rounds: r)
                    acc = result
                    if sampler.shouldKeep() != nil { sampledSocket.recordMessageSent(bytes: Int(result & 0xFFFF)) }
                }
                blackHole(acc)
            }
            let kept = Double(ExpositionValue.read(sampledRegistry, "websocket_messages_sent_total") ?? 0)
            let estimate = kept / p
            print(String(format: "  sampled at p = %.2f: %.2f ns, overhead ", p, sampled) + percent(sampled)
                  + String(format: " (%+.2f ns vs exact); estimated count %.0f vs %.0f sent (%+.3f %%)", sampled - exact, estimate, expected, (estimate - expected) / expected * 100))
        }
        // The recording alone, in a loop that does nothing else: what it costs the
        // CPU when it cannot hide behind the work, exact and behind a sampler.
        let isolatedRegistry = MetricsRegistry()
        let isolatedSocket = try! WebSocketMetrics(registry: isolatedRegistry)
        let isolatedExact = Harness.nanosecondsPerOperation(iterations: n) { count in
            for i in 0..<count { isolatedSocket.recordMessageSent(bytes: i & 0xFFFF) }
        }
        var line = String(format: "  recording alone (no work in the loop): exact %.2f ns/op", isolatedExact)
        for p in [0.1, 0.01] {
            let sampler = AdaptiveSampler()
            sampler.setProbability(p)
            let isolatedSampled = Harness.nanosecondsPerOperation(iterations: n) { count in
                for i in 0..<count where sampler.shouldKeep() != nil { isolatedSocket.recordMessageSent(bytes: i & 0xFFFF) }
            }
            line += String(format: " | decision + record at p = %.2f: %.2f ns/op (%+.2f ns)", p, isolatedSampled, isolatedSampled - isolatedExact)
        }
        print(line)
    }
}

/// Reads one unlabelled sample from a registry's text exposition.
enum ExpositionValue {
    static func read(_ registry: MetricsRegistry, _ name: String) -> Int64? {
        for line in registry.renderString().split(separator: "\n") where line.hasPrefix(name + " ") {
            return Int64(line.split(separator: " ")[1])
        }
        return nil
    }
}
