import Foundation

/// One line of the comparison table.
struct Comparison {
    let name: String
    let unit: String
    let tally: Double
    let peer: Double
    /// How many times faster Tally must be (1.0: not slower).
    let requiredSpeedup: Double

    var speedup: Double { self.peer / self.tally }
    var met: Bool { self.speedup >= self.requiredSpeedup }
}

func printTable(_ rows: [Comparison]) {
    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
    print(pad("case", 50) + pad("Tally", 14) + pad("swift-prometheus", 18) + pad("speedup", 10) + pad("target", 9) + "met")
    for row in rows {
        print(
            pad(row.name, 50)
                + pad(String(format: "%.2f ", row.tally) + row.unit, 14)
                + pad(String(format: "%.2f ", row.peer) + row.unit, 18)
                + pad(String(format: "%.2fx", row.speedup), 10)
                + pad(">=" + String(format: "%.1fx", row.requiredSpeedup), 9)
                + (row.met ? "yes" : "NO")
        )
    }
}
