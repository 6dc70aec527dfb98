import TallyRedis

/// The Lua script that makes a batch's effect exactly-once on Redis.
///
/// In one atomic step it (1) checks with `XPENDING` (one range query for the
/// batch, per-id queries only if the range was truncated) that every entry to
/// acknowledge or dead-letter is still pending for this consumer — if one is
/// not, it changes nothing and returns the lost ids; (2) admits new tools and
/// error codes up to their caps; (3) adds the window buckets' counts and
/// sketch bins (`HINCRBYFLOAT`, `EXPIREAT` after the window), the all-time
/// tool and code totals, and the sessions (first seen with `ZADD LT`, last
/// seen with `ZADD GT`, tool counts, ended sessions; sessions quiet past the
/// timeout are removed); (4) copies dead letters to the dead-letter stream with `error`,
/// `failed_at`, `deliveries`, `original_id` and the original fields; (5)
/// acknowledges everything. With an empty group it only applies the delta.
///
/// KEYS: every key the script touches, all under one hash tag: the event
/// stream, the dead-letter stream, the tool and code sets and totals, the
/// session sets (``ApplyPayload/fixedKeys(_:)``), then the batch's window
/// buckets, which the payload names by index.
enum ApplyScript {
    static let script = RedisScript(#"""
local p = cjson.decode(ARGV[1])
local stream, dlq = KEYS[1], KEYS[2]
local knownTools, knownCodes, toolSuccesses, toolFailures = KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local codeTotals, activeSessions, sessionFirstSeen, sessionToolCalls, endedSessions = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
if p.group ~= '' then
  -- One range query for the batch: this consumer's pending entries between the lowest and highest id.
  local owned = {}
  local limit = 4 * (#p.ack + #p.dead) + 1000
  local range = {}
  if p.lo ~= '' then range = redis.call('XPENDING', stream, p.group, p.lo, p.hi, limit, p.consumer) end
  local complete = #range < limit
  for _, r in ipairs(range) do owned[r[1]] = true end
  local lost = {}
  local function check(id)
    if owned[id] then return end
    if not complete then
      local one = redis.call('XPENDING', stream, p.group, id, id, 1)
      if #one > 0 and one[1][2] == p.consumer then return end
    end
    lost[#lost + 1] = id
  end
  for _, id in ipairs(p.ack) do check(id) end
  for _, d in ipairs(p.dead) do check(d[1]) end
  if #lost > 0 then return {0, lost} end
end
local function admit(set, name, cap)
  if redis.call('SISMEMBER', set, name) == 0 and redis.call('SCARD', set) < cap then
    redis.call('SADD', set, name)
  end
end
for _, t in ipairs(p.tools) do admit(knownTools, t[1], p.maxTools) end
for _, c in ipairs(p.codes) do admit(knownCodes, c[1], p.maxCodes) end
local function capped(set, name)
  if redis.call('SISMEMBER', set, name) == 1 then return name end
  return '__overflow__'
end
for _, b in ipairs(p.buckets) do
  local key = KEYS[b.key]
  if b.n > 0 then redis.call('HINCRBYFLOAT', key, 'n', b.n) end
  if b.a > 0 then redis.call('HINCRBYFLOAT', key, 'a', b.a) end
  if b.sum ~= 0 then redis.call('HINCRBYFLOAT', key, 'sum', b.sum) end
  if b.zero > 0 then redis.call('HINCRBYFLOAT', key, 'zero', b.zero) end
  for _, bin in ipairs(b.bins) do redis.call('HINCRBYFLOAT', key, 'b' .. bin[1], bin[2]) end
  for _, t in ipairs(b.tools) do
    local name = capped(knownTools, t[1])
    if t[2] > 0 then redis.call('HINCRBYFLOAT', key, 'ts:' .. name, t[2]) end
    if t[3] > 0 then redis.call('HINCRBYFLOAT', key, 'tf:' .. name, t[3]) end
  end
  redis.call('EXPIREAT', key, b.expireAt)
end
for _, t in ipairs(p.tools) do
  local name = capped(knownTools, t[1])
  if t[2] > 0 then redis.call('HINCRBYFLOAT', toolSuccesses, name, t[2]) end
  if t[3] > 0 then redis.call('HINCRBYFLOAT', toolFailures, name, t[3]) end
end
for _, c in ipairs(p.codes) do
  redis.call('HINCRBYFLOAT', codeTotals, capped(knownCodes, c[1]), c[2])
end
-- Sessions: a few multi-member calls per batch, not a few calls per session.
local function chunked(command, key, option, args, step)
  for i = 1, #args, step do
    if option then
      redis.call(command, key, option, unpack(args, i, math.min(i + step - 1, #args)))
    else
      redis.call(command, key, unpack(args, i, math.min(i + step - 1, #args)))
    end
  end
end
local ns = #p.sessions
if ns > 0 then
  local cutoff = p.now - p.sessionTimeout
  -- Sessions quiet for longer than the timeout (live or ended) leave every session key: first those of
  -- this batch, so that a returning id starts afresh, then a bounded number of the others.
  local function forget(set, ids)
    chunked('ZREM', set, nil, ids, 500)
    chunked('ZREM', sessionFirstSeen, nil, ids, 500)
    chunked('HDEL', sessionToolCalls, nil, ids, 500)
  end
  local ids = {}
  for i, s in ipairs(p.sessions) do ids[i] = s[1] end
  local lastSeen, wasEnded = {}, {}
  for i = 1, ns, 500 do
    local j = math.min(i + 499, ns)
    local live = redis.call('ZMSCORE', activeSessions, unpack(ids, i, j))
    local ended = redis.call('ZMSCORE', endedSessions, unpack(ids, i, j))
    for k = 1, j - i + 1 do
      lastSeen[i + k - 1] = live[k] and tonumber(live[k]) or nil
      wasEnded[i + k - 1] = ended[k] and tonumber(ended[k]) or nil
    end
  end
  local staleLive, staleEnded = {}, {}
  for i, id in ipairs(ids) do
    if lastSeen[i] and lastSeen[i] < cutoff then staleLive[#staleLive + 1] = id end
    if wasEnded[i] and wasEnded[i] < cutoff then staleEnded[#staleEnded + 1] = id; wasEnded[i] = nil end
  end
  forget(activeSessions, staleLive)
  forget(endedSessions, staleEnded)
  local firsts, lasts, ends, endedNow = {}, {}, {}, {}
  for i, s in ipairs(p.sessions) do
    local id, first, last, tools, ended = s[1], s[2], s[3], s[4], s[5]
    firsts[#firsts + 1] = first; firsts[#firsts + 1] = id
    if tools > 0 then redis.call('HINCRBYFLOAT', sessionToolCalls, id, tools) end
    if ended >= 0 or wasEnded[i] then
      ends[#ends + 1] = math.max(last, ended); ends[#ends + 1] = id
      if not wasEnded[i] then endedNow[#endedNow + 1] = id end
    else
      lasts[#lasts + 1] = last; lasts[#lasts + 1] = id
    end
  end
  chunked('ZADD', sessionFirstSeen, 'LT', firsts, 1000)
  chunked('ZADD', activeSessions, 'GT', lasts, 1000)
  chunked('ZADD', endedSessions, 'GT', ends, 1000)
  chunked('ZREM', activeSessions, nil, endedNow, 500)
  for _, set in ipairs({activeSessions, endedSessions}) do
    forget(set, redis.call('ZRANGEBYSCORE', set, '-inf', '(' .. cutoff, 'LIMIT', 0, 2000))
  end
end
for _, d in ipairs(p.dead) do
  local fields = {'error', d[2], 'failed_at', p.nowText, 'deliveries', d[3], 'original_id', d[1]}
  local e = redis.call('XRANGE', stream, d[1], d[1])
  if #e > 0 then
    for _, v in ipairs(e[1][2]) do fields[#fields + 1] = v end
  end
  redis.call('XADD', dlq, '*', unpack(fields))
  redis.call('XACK', stream, p.group, d[1])
end
local acked = 0
for i = 1, #p.ack, 500 do
  acked = acked + redis.call('XACK', stream, p.group, unpack(p.ack, i, math.min(i + 499, #p.ack)))
end
return {1, acked, #p.dead}
"""#)
}
