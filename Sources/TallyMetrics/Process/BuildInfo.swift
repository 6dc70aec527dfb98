/// An application's `<name>_build_info` gauge: one series of value 1 whose labels
/// say what is running (version, revision, toolchain), so that PromQL can join
/// it to any other series of the same target.
///
/// ```swift
/// try BuildInfo.register(in: registry, name: "myapp_build_info",
///                        labels: [("version", "1.4.2"), ("revision", "9f2c1e0")])
/// ```
public enum BuildInfo {
    /// Registers `name` with the given labels and sets it to 1; throws if the name
    /// is taken or a label name is invalid.
    @discardableResult
    public static func register(in registry: MetricsRegistry, name: String, help: String = "Build information: the labels say what is running; the value is always 1.",
                                labels: [(name: String, value: String)]) throws(MetricsRegistryError) -> Gauge {
        let family = try registry.registerFamily(Gauge.self, name: name, help: help, labelNames: labels.map(\.name), maxSeries: 1)
        let gauge = family.labels(labels.map(\.value))
        gauge.set(1)
        return gauge
    }
}
