/// Dollar prices per model, per million tokens; its models are the declared
/// values of the `model` label.
public struct LLMPriceTable: Sendable, Hashable {
    /// One model's prices.
    public struct Price: Sendable, Hashable {
        public var inputPerMillionTokens: Double
        public var outputPerMillionTokens: Double

        public init(inputPerMillionTokens: Double, outputPerMillionTokens: Double) {
            self.inputPerMillionTokens = inputPerMillionTokens
            self.outputPerMillionTokens = outputPerMillionTokens
        }
    }

    public var prices: [String: Price]

    public init(_ prices: [String: Price]) {
        self.prices = prices
    }

    /// The cost of one call in dollars; nil for a model without a price.
    public func cost(model: String, inputTokens: Int, outputTokens: Int) -> Double? {
        guard let price = prices[model] else { return nil }
        return (Double(inputTokens) * price.inputPerMillionTokens + Double(outputTokens) * price.outputPerMillionTokens) / 1_000_000
    }
}
