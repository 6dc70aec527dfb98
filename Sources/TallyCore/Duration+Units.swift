/// A `Duration` as the numbers metrics and Redis commands take: the one place the
/// `(seconds, attoseconds)` components are turned into seconds or milliseconds.
package extension Duration {
    /// The duration in seconds, fraction included (what histograms and gauges record).
    @inlinable
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in whole milliseconds, the fraction of a millisecond dropped (rounded toward
    /// zero), as Redis's `PX`, `BLOCK`, `WAIT` and script arguments take it. Callers that must not
    /// send 0 clamp to at least 1 themselves.
    @inlinable
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
