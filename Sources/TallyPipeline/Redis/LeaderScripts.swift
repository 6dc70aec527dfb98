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

    /// KEYS: the leader's hashes (score, session figures). ARGV: token, then for each key a field
    /// count n and n field–value pairs (n = 0: left alone). Writes them, or nothing when either holds
    /// a newer token than ARGV[1]; returns 1 or 0.
    static let storeFenced = RedisScript(#"""
local token = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('HGET', key, 'token') or '-1') > token then return 0 end
end
local at = 2
for _, key in ipairs(KEYS) do
  local n = tonumber(ARGV[at])
  if n > 0 then
    local args = {}
    for i = 1, 2 * n do args[i] = ARGV[at + i] end
    redis.call('HSET', key, 'token', ARGV[1], unpack(args))
  end
  at = at + 2 * n + 1
end
return 1
"""#)
}
