import TallyRedis

/// Lua scripts for the leader lock and the fenced score write.
enum LeaderScripts {
    /// KEYS: lock, token counter. ARGV: node, ttl ms. Renews the lock if `node` holds it, takes it
    /// (`SET … PX`, a new fencing token from `INCR`) if it is free; returns the token, or nil.
    static let acquire = RedisScript(#"""
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
if holder then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('INCR', KEYS[2])
"""#)

    /// KEYS: lock. ARGV: node. Deletes the lock only if `node` holds it.
    static let release = RedisScript(#"""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""#)

    /// KEYS: score hash. ARGV: value (empty: no data), computed_at, token. Refuses a token older than the stored one.
    static let storeScore = RedisScript(#"""
local stored = tonumber(redis.call('HGET', KEYS[1], 'token') or '-1')
if stored > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'computed_at', ARGV[2], 'token', ARGV[3])
return 1
"""#)
}
