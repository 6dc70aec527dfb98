import Foundation

/// Validates exposition text with the real parsers: `promtool check metrics`
/// and Python's `prometheus_client` OpenMetrics parser (installed into `.venv`
/// by `scripts/test`).
public enum ExpositionCheckers {
    /// Runs `promtool check metrics`; returns its complaints (empty when clean).
    public static func promtoolProblems(_ exposition: [UInt8]) async throws -> String {
        guard let promtool = ExternalTool.locate("promtool") else {
            throw ExternalTool.Failure.notInstalled("promtool", hint: "run scripts/test, which installs Debian's prometheus package")
        }
        let output = try await ExternalTool.run(promtool, ["check", "metrics"], input: exposition)
        let complaints = (output.stdout + output.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        return output.status == 0 ? complaints : "exit \(output.status): \(complaints)"
    }

    /// The Python interpreter with `prometheus_client`: `$TALLY_PYTHON`, else `.venv/bin/python` of the package.
    public static func python() throws -> String {
        if let configured = ProcessInfo.processInfo.environment["TALLY_PYTHON"] { return configured }
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent(".venv/bin/python").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        throw ExternalTool.Failure.notInstalled("python prometheus_client", hint: "run scripts/test, which creates .venv with prometheus_client")
    }

    /// Parses OpenMetrics text with `prometheus_client.openmetrics.parser` and
    /// returns every sample as `name{label="value",…} value`, labels sorted, one per line.
    public static func openMetricsSamples(_ exposition: [UInt8]) async throws -> (samples: [String], error: String?) {
        let script = """
        import sys
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
        text = sys.stdin.buffer.read().decode('utf-8')
        try:
            for family in text_string_to_metric_families(text):
                for s in family.samples:
                    labels = ','.join('%s="%s"' % (k, v.replace('\\\\', '\\\\\\\\').replace('"', '\\\\"').replace('\\n', '\\\\n')) for k, v in sorted(s.labels.items()))
                    print('%s{%s} %s' % (s.name, labels, repr(float(s.value))))
        except Exception as e:
            print('PARSE ERROR: %s' % e, file=sys.stderr)
            sys.exit(3)
        """
        let output = try await ExternalTool.run(try self.python(), ["-c", script], input: exposition)
        let samples = output.stdout.split(separator: "\n").map(String.init)
        return (samples, output.status == 0 ? nil : output.stderr + output.stdout)
    }

    /// Decodes protobuf exposition (length-delimited `io.prometheus.client.MetricFamily`) with
    /// Python's `protobuf` package and classes generated from `scripts/support/prometheus_metrics.proto`
    /// (an independent decoder); with `expand`, native histograms also carry `native_buckets`
    /// (index → count, positive) and `negative_native_buckets`. Returns the families as JSON objects.
    public static func protobufFamilies(_ exposition: [UInt8], expand: Bool = true) async throws -> (families: [[String: Any]], error: String?) {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<2 { root.deleteLastPathComponent() }
        let script = root.appendingPathComponent("scripts/support/decode_protobuf_exposition.py").path
        let output = try await ExternalTool.run(try self.python(), [script] + (expand ? ["--expand"] : []), input: exposition)
        guard output.status == 0 else { return ([], "exit \(output.status): \(output.stderr)") }
        let json = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
        return ((json as? [[String: Any]]) ?? [], nil)
    }
}
