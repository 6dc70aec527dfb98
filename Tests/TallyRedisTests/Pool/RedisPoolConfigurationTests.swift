import Testing
import TallyRedis

/// A pool configuration that cannot work is refused with a message naming the value.
@Suite struct RedisPoolConfigurationTests {
    @Test func valuesThatCannotWorkAreRefusedNamingTheValue() throws {
        let connection = try RedisConfiguration(url: "redis://127.0.0.1:6379")
        let cases: [(String, () throws -> RedisPoolConfiguration)] = [
            ("maximumConnections", { try RedisPoolConfiguration(connection: connection, maximumConnections: 0) }),
            ("maximumBlockingConnections", { try RedisPoolConfiguration(connection: connection, maximumBlockingConnections: -1) }),
            ("healthCheckInterval", { try RedisPoolConfiguration(connection: connection, healthCheckInterval: .seconds(-1)) }),
            ("leaseTimeout", { try RedisPoolConfiguration(connection: connection, leaseTimeout: .zero) }),
            ("reconnect backoffs", { try RedisPoolConfiguration(connection: connection, reconnectInitialBackoff: .seconds(2), reconnectMaximumBackoff: .seconds(1)) }),
            ("reconnect backoffs", { try RedisPoolConfiguration(connection: connection, reconnectInitialBackoff: .zero) }),
        ]
        for (value, make) in cases {
            #expect(throws: RedisPoolConfiguration.InvalidValue.self, "\(value)") { try make() }
            do { _ = try make() } catch { #expect("\(error)".hasPrefix(value), "\(error)") }
        }
        // The smallest pool that works, and a health check on every lease (interval zero), are fine.
        let smallest = try RedisPoolConfiguration(connection: connection, maximumConnections: 1, maximumBlockingConnections: 1, healthCheckInterval: .zero)
        #expect(smallest.maximumConnections == 1 && smallest.healthCheckInterval == .zero)
    }
}
