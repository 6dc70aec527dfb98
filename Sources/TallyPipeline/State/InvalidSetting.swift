/// A setting out of its range or unreadable; the description is one line for an operator,
/// naming the setting, the value given and what is allowed.
public struct InvalidSetting: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
