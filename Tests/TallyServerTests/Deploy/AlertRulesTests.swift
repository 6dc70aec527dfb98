import Foundation
import Testing
import TallyTesting

/// `deploy/prometheus/`: promtool accepts and tests the rules; every alert is
/// complete, has a runbook section and a firing and a quiet test case.
@Suite struct AlertRulesTests {
    static func promtool() throws -> String {
        guard let path = ExternalTool.locate("promtool") else {
            throw ExternalTool.Failure.notInstalled("promtool", hint: "apt-get install prometheus (scripts/test does)")
        }
        return path
    }

    static func alerts() throws -> [RuleEntry] {
        RuleFile.rules(try DeployFiles.text("deploy/prometheus/alerts.yml")).filter(\.isAlert)
    }

    @Test func promtoolChecksTheRulesAndTheExampleConfig() async throws {
        let rules = try await ExternalTool.run(try Self.promtool(), ["check", "rules", DeployFiles.path("deploy/prometheus/alerts.yml")])
        #expect(rules.status == 0, "promtool check rules:\n\(rules.stdout)\n\(rules.stderr)")
        let config = try await ExternalTool.run(try Self.promtool(), ["check", "config", DeployFiles.path("deploy/prometheus/prometheus.yml")])
        #expect(config.status == 0, "promtool check config:\n\(config.stdout)\n\(config.stderr)")
    }

    @Test func promtoolUnitTestsOfEveryAlertPass() async throws {
        let result = try await ExternalTool.run(try Self.promtool(), ["test", "rules", DeployFiles.path("deploy/prometheus/alerts_test.yml")])
        #expect(result.status == 0, "promtool test rules:\n\(result.stdout)\n\(result.stderr)")
    }

    @Test func everyAlertHasASeverityTextsAndARunbookAnchorThatExists() throws {
        let alerts = try Self.alerts()
        #expect(alerts.count >= 30, "found \(alerts.count) alerts")
        let runbooks = try DeployFiles.text("docs/runbooks.md")
        let headings = Set(runbooks.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3)) })
        for alert in alerts {
            #expect(["critical", "warning", "info"].contains(alert.labels["severity"] ?? ""), "\(alert.name): severity \(alert.labels["severity"] ?? "missing")")
            #expect(alert.hasFor, "\(alert.name): no `for:`")
            #expect(!(alert.annotations["summary"] ?? "").isEmpty, "\(alert.name): no summary")
            #expect(!(alert.annotations["description"] ?? "").isEmpty, "\(alert.name): no description")
            #expect(alert.annotations["runbook_url"] == DeployFiles.runbookBase + "#" + alert.name.lowercased(), "\(alert.name): runbook_url \(alert.annotations["runbook_url"] ?? "missing")")
            #expect(headings.contains(alert.name), "docs/runbooks.md has no section '## \(alert.name)'")
        }
        // And no runbook section for an alert that does not exist.
        let names = Set(alerts.map(\.name))
        let sections = headings.filter { $0.first?.isUppercase == true && !$0.contains(" ") }
        #expect(sections.subtracting(names).isEmpty, "runbook sections without an alert: \(sections.subtracting(names).sorted())")
    }

    @Test func everyRunbookSectionSaysWhatItMeansHowToCheckAndWhatToDo() throws {
        let runbooks = try DeployFiles.text("docs/runbooks.md")
        for alert in try Self.alerts() {
            guard let start = runbooks.range(of: "\n## \(alert.name)\n") else { continue }
            let rest = runbooks[start.upperBound...]
            let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
            for part in ["**What it means.**", "**How to check.**", "**What to do.**"] {
                #expect(section.contains(part), "\(alert.name): runbook section lacks \(part)")
            }
        }
    }

    @Test func everyAlertHasAFiringAndAQuietTestCase() throws {
        let tests = try DeployFiles.text("deploy/prometheus/alerts_test.yml")
        for alert in try Self.alerts() {
            let firing = tests.range(of: "alertname: \(alert.name)\n\\s+exp_alerts:\n\\s+- exp_labels", options: .regularExpression)
            let quiet = tests.range(of: "alertname: \(alert.name)\n\\s+exp_alerts: \\[\\]", options: .regularExpression)
            #expect(firing != nil, "\(alert.name) has no test case where it fires")
            #expect(quiet != nil, "\(alert.name) has no test case where it stays quiet")
        }
    }

    /// The seeds' bug: `rate(failures) > 0` pages on one failure in a million.
    @Test func noAlertComparesARateOrIncreaseWithZero() throws {
        for alert in try Self.alerts() {
            let flat = alert.expr.replacingOccurrences(of: "\n", with: " ")
            let bad = flat.range(of: #"(rate|increase|irate|delta)\([^()]*\)\)?\s*(>|!=)\s*0(\.0*)?(\s|$|\))"#, options: .regularExpression)
            #expect(bad == nil, "\(alert.name) compares a rate with 0: \(flat)")
        }
    }

    /// Global derived metrics are the same on every node: summing them multiplies by the node count.
    @Test func globalDerivedMetricsAreNeverSummed() throws {
        let global = ["tally_stream_lag_events", "tally_stream_pending_events", "tally_stream_oldest_pending_age_seconds", "tally_dead_letter_events",
                      "tally_productivity_score", "tally_suggestion_acceptance_ratio", "tally_completion_latency_seconds", "tally_sessions_active",
                      "tally_redis_used_memory_bytes", "tally_redis_maxmemory_bytes", "tally_redis_evicted_keys_total"]
        let rules = RuleFile.rules(try DeployFiles.text("deploy/prometheus/alerts.yml"))
        let dashboard = try JSONSerialization.jsonObject(with: Data(try DeployFiles.text("deploy/grafana/tally.json").utf8))
        for expr in rules.map(\.expr) + DashboardExpressions.all(dashboard) {
            let flat = expr.replacingOccurrences(of: "\n", with: " ")
            for name in global {
                let summed = flat.range(of: #"sum(\s+(by|without)\s*\([^)]*\))?\s*\((rate|increase)?\(?\s*\#(name)\b"#, options: .regularExpression)
                #expect(summed == nil, "\(name) is summed in: \(flat)")
            }
        }
    }
}
