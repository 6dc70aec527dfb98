import Foundation
import Testing
import TallyTesting

/// `deploy/alertmanager/alertmanager.yml`: amtool accepts it; every alert of
/// `deploy/prometheus/alerts.yml` reaches the receiver its severity names;
/// every `condition` pairs one critical alert with its warnings, and a real
/// Alertmanager inhibits those warnings while the critical one fires.
@Suite struct AlertmanagerTests {
    static let config = "deploy/alertmanager/alertmanager.yml"
    static let receivers = ["critical": "pager", "warning": "ticket", "info": "null"]

    static func amtool() throws -> String {
        guard let path = ExternalTool.locate("amtool") else {
            throw ExternalTool.Failure.notInstalled("amtool", hint: "apt-get install prometheus-alertmanager (scripts/test does)")
        }
        return path
    }

    static func alerts() throws -> [RuleEntry] {
        RuleFile.rules(try DeployFiles.text("deploy/prometheus/alerts.yml")).filter(\.isAlert)
    }

    /// `amtool config routes test`: the receivers the labels are routed to, one per line.
    static func route(_ labels: [String: String]) async throws -> (status: Int32, receivers: String) {
        let arguments = ["config", "routes", "test", "--config.file=\(DeployFiles.path(config))"]
            + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let result = try await ExternalTool.run(try amtool(), arguments)
        return (result.status, result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func amtoolChecksTheConfiguration() async throws {
        let result = try await ExternalTool.run(try Self.amtool(), ["check-config", DeployFiles.path(Self.config)])
        #expect(result.status == 0, "amtool check-config:\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("1 inhibit rules"), "amtool check-config:\n\(result.stdout)")
    }

    @Test func everyAlertIsRoutedToTheReceiverOfItsSeverity() async throws {
        let alerts = try Self.alerts()
        #expect(alerts.contains { $0.labels["severity"] == "critical" })
        #expect(alerts.contains { $0.labels["severity"] == "warning" })
        #expect(alerts.contains { $0.labels["severity"] == "info" })
        for alert in alerts {
            let severity = alert.labels["severity"] ?? ""
            let expected = try #require(Self.receivers[severity], "\(alert.name): severity \(severity)")
            // The alert's own labels plus the ones Prometheus adds from the series.
            var labels = alert.labels
            labels["alertname"] = alert.name
            labels["job"] = "tally"
            labels["instance"] = "n1:8080"
            let routed = try await Self.route(labels)
            #expect(routed.status == 0, "amtool config routes test \(alert.name) failed")
            #expect(routed.receivers == expected, "\(alert.name) (\(severity)) goes to '\(routed.receivers)', not \(expected)")
        }
    }

    @Test func anAlertWithoutASeverityStillOpensATicket() async throws {
        let routed = try await Self.route(["alertname": "SomethingNew", "job": "tally"])
        #expect(routed.status == 0)
        #expect(routed.receivers == "ticket")
    }

    @Test func everyConditionPairsOneCriticalAlertWithItsWarnings() throws {
        let alerts = try Self.alerts()
        let conditions = Dictionary(grouping: alerts.filter { $0.labels["condition"] != nil }) { $0.labels["condition"]! }
        #expect(conditions.count >= 4, "conditions: \(conditions.keys.sorted())")
        for (condition, members) in conditions {
            let critical = members.filter { $0.labels["severity"] == "critical" }.map(\.name)
            let warnings = members.filter { $0.labels["severity"] == "warning" }.map(\.name)
            #expect(critical.count == 1, "condition \(condition): critical alerts \(critical)")
            #expect(!warnings.isEmpty, "condition \(condition) has no warning to inhibit")
            #expect(critical.count + warnings.count == members.count, "condition \(condition): only critical and warning alerts share a condition")
            #expect(condition.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "condition \(condition) is not snake_case")
        }
        // The critical twins of the seed's critical alerts.
        for name in ["WebSocketErrorRatioCritical", "MessageSearchFailureRatioCritical", "MessageSizeP99Critical", "QueueLagGrowingFast"] {
            let alert = alerts.first { $0.name == name }
            #expect(alert?.labels["severity"] == "critical", "\(name) is missing or not critical")
            #expect(alert?.labels["condition"] != nil, "\(name) has no condition")
        }
    }

    @Test func aCriticalAlertInhibitsTheWarningsOfItsConditionAndJob() throws {
        let text = try DeployFiles.text(Self.config)
        let section = try #require(text.range(of: "\ninhibit_rules:\n").map { String(text[$0.upperBound...]) }, "no inhibit_rules")
        func value(_ key: String) -> String {
            section.split(separator: "\n").first { $0.contains(key + ":") }.map { String($0.split(separator: ":", maxSplits: 1)[1]) } ?? ""
        }
        #expect(value("source_matchers").contains(#"severity="critical""#))
        #expect(value("target_matchers").contains(#"severity="warning""#))
        let equal = value("equal").trimmingCharacters(in: CharacterSet(charactersIn: " []")).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(equal.contains("condition") && equal.contains("job"), "equal: \(equal)")
    }

    @Test func everyPlaceholderURLIsDocumented() throws {
        let config = try DeployFiles.text(Self.config)
        let runbooks = try DeployFiles.text("docs/runbooks.md")
        let urls = config.split(whereSeparator: { $0 == " " || $0 == "\n" }).filter { $0.hasPrefix("http://") || $0.hasPrefix("https://") }
        #expect(!urls.isEmpty)
        for url in Set(urls) {
            #expect(url.contains(".invalid/"), "\(url) is not a placeholder")
            #expect(runbooks.contains(url), "docs/runbooks.md does not name the placeholder \(url)")
        }
    }

    /// A real Alertmanager with the deploy configuration: for every condition, the critical
    /// alert suppresses the warnings of its job and queue, and leaves another job's or another
    /// queue's warnings alone.
    @Test func aRunningAlertmanagerInhibitsTheWarningTwins() async throws {
        guard let binary = ExternalTool.locate("prometheus-alertmanager") ?? ExternalTool.locate("alertmanager") else {
            throw ExternalTool.Failure.notInstalled("prometheus-alertmanager", hint: "apt-get install prometheus-alertmanager (scripts/test does)")
        }
        let amtool = try Self.amtool()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tally-alertmanager-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = ServeProcessTests.freePort()
        let url = "--alertmanager.url=http://127.0.0.1:\(port)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--config.file=\(DeployFiles.path(Self.config))",
            "--storage.path=\(folder.appendingPathComponent("data").path)",
            "--web.listen-address=127.0.0.1:\(port)",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        let log = folder.appendingPathComponent("alertmanager.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Generous: the suite starts dozens of servers at once on two cores.
        let up = try await poll(timeout: .seconds(60), every: .milliseconds(250)) {
            try await ExternalTool.run(amtool, ["alert", "query", url]).status == 0
        }
        #expect(up, "alertmanager did not answer:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        guard up else { return }

        let alerts = try Self.alerts()
        let conditions = Dictionary(grouping: alerts.filter { $0.labels["condition"] != nil }) { $0.labels["condition"]! }
        // "alertname job queue" of each warning posted, and whether it must end up inhibited: only
        // the warning with the critical alert's job and queue is.
        var expected: [String: Bool] = [:]
        func post(_ alert: RuleEntry, job: String, queue: String) async throws {
            let labels = alert.labels.merging(["alertname": alert.name, "job": job, "queue": queue, "pool": "main"]) { _, new in new }
            let result = try await ExternalTool.run(amtool, ["alert", "add", url] + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            #expect(result.status == 0, "amtool alert add \(alert.name): \(result.stderr)")
        }
        for (_, members) in conditions {
            for alert in members {
                if alert.labels["severity"] == "critical" {
                    try await post(alert, job: "paged", queue: "emails")
                    continue
                }
                for (job, queue, inhibited) in [("paged", "emails", true), ("calm", "emails", false), ("paged", "pushes", false)] {
                    try await post(alert, job: job, queue: queue)
                    expected["\(alert.name) \(job) \(queue)"] = inhibited
                }
            }
        }
        var seen: [String: Bool] = [:]
        let settled = try await poll(timeout: .seconds(45), every: .milliseconds(250)) {
            let result = try await ExternalTool.run(amtool, ["alert", "query", url, "--active", "--inhibited", "-o", "json"])
            guard result.status == 0, let list = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] else { return false }
            seen = [:]
            for item in list {
                let labels = item["labels"] as? [String: String] ?? [:]
                guard labels["severity"] == "warning", let name = labels["alertname"], let job = labels["job"], let queue = labels["queue"] else { continue }
                let inhibitedBy = (item["status"] as? [String: Any])?["inhibitedBy"] as? [Any] ?? []
                seen["\(name) \(job) \(queue)"] = !inhibitedBy.isEmpty
            }
            return seen == expected
        }
        let wrong = Set(expected.keys).union(seen.keys).filter { expected[$0] != seen[$0] }.sorted()
            .map { "\($0): expected \(expected[$0].map { $0 ? "inhibited" : "active" } ?? "absent"), got \(seen[$0].map { $0 ? "inhibited" : "active" } ?? "absent")" }
        #expect(settled, "warnings not as expected:\n\(wrong.joined(separator: "\n"))")
        process.terminate()
        await process.exited()
    }
}
