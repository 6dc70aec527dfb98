// The load generator and its seeded random numbers live in TallyLoad, which the `tally` binary
// links for `tally loadgen`; the tests and benchmarks reach them through TallyTesting as before.
@_exported import TallyLoad
