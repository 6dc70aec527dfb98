import TallyRedis

/// The Lua script that makes a batch's effect exactly-once on Redis.
///
/// In one atomic step it (1) checks with `XPENDING` (one range query for the
/// batch, per-id queries only if the range was truncated) that every entry to
/// acknowledge or dead-letter is still pending for this consumer — if one is
/// not, it changes nothing and returns the lost ids; (2) admits new tools and
/// error codes up to their caps; (3) adds the window buckets' counts and
/// sketch bins (one `HMGET` and one `HSET` per hash, `EXPIREAT` after the window), the all-time
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
local cappedNames = {}
local function capped(set, name)
  local key = set .. '\0' .. name
  local known = cappedNames[key]
  if known == nil then
    known = redis.call('SISMEMBER', set, name) == 1 and name or '__overflow__'
    cappedNames[key] = known
  end
  return known
end
local function chunked(command, key, option, args, step)
  for i = 1, #args, step do
    if option then
      redis.call(command, key, option, unpack(args, i, math.min(i + step - 1, #args)))
    else
      redis.call(command, key, unpack(args, i, math.min(i + step - 1, #args)))
    end
  end
end
-- Integers as integers; other doubles with '%.17g', which reads back exactly.
local function decimal(v)
  if v == math.floor(v) and v > -1e15 and v < 1e15 then return string.format('%d', v) end
  return string.format('%.17g', v)
end
-- Adds amounts to the fields of one hash with one HMGET and one HSET, where HINCRBYFLOAT would take a
-- call per field.
local function addToHash(key, amounts)
  local fields = {}
  for field, amount in pairs(amounts) do
    if amount ~= 0 then fields[#fields + 1] = field end
  end
  if #fields == 0 then return end
  local args = {}
  for i = 1, #fields, 500 do
    local j = math.min(i + 499, #fields)
    local current = redis.call('HMGET', key, unpack(fields, i, j))
    for k = i, j do
      args[#args + 1] = fields[k]
      args[#args + 1] = decimal((tonumber(current[k - i + 1]) or 0) + amounts[fields[k]])
    end
  end
  chunked('HSET', key, nil, args, 1000)
end
local function add(amounts, field, amount)
  if amount ~= 0 then amounts[field] = (amounts[field] or 0) + amount end
end
for _, b in ipairs(p.buckets) do
  local key = KEYS[b.key]
  local amounts = {}
  add(amounts, 'n', b.n)
  add(amounts, 'a', b.a)
  add(amounts, 'sum', b.sum)
  add(amounts, 'zero', b.zero)
  local bins = b.bins
  for i = 1, #bins, 2 do add(amounts, bins[i], bins[i + 1]) end
  for _, t in ipairs(b.tools) do
    local name = capped(knownTools, t[1])
    add(amounts, 'ts:' .. name, t[2])
    add(amounts, 'tf:' .. name, t[3])
  end
  addToHash(key, amounts)
  redis.call('EXPIREAT', key, b.expireAt)
end
local successes, failures, codes = {}, {}, {}
for _, t in ipairs(p.tools) do
  local name = capped(knownTools, t[1])
  add(successes, name, t[2])
  add(failures, name, t[3])
end
for _, c in ipairs(p.codes) do add(codes, capped(knownCodes, c[1]), c[2]) end
addToHash(toolSuccesses, successes)
addToHash(toolFailures, failures)
addToHash(codeTotals, codes)
-- Sessions: a few multi-member calls per batch, not a few calls per session.
local sessions = p.sessions
local ns = #sessions / 5
if ns > 0 then
  local cutoff = '(' .. (p.now - p.sessionTimeout)
  -- Sessions quiet for longer than the timeout (live or ended) leave every session key, up to
  -- `rounds` × 2,000 of them from each set.
  local function forgetQuiet(rounds)
    for _, set in ipairs({activeSessions, endedSessions}) do
      for _ = 1, rounds do
        local gone = redis.call('ZRANGEBYSCORE', set, '-inf', cutoff, 'LIMIT', 0, 2000)
        chunked('ZREM', set, nil, gone, 500)
        chunked('ZREM', sessionFirstSeen, nil, gone, 500)
        chunked('HDEL', sessionToolCalls, nil, gone, 500)
        if #gone < 2000 then break end
      end
    end
  end
  -- Before this batch's changes, so that a returning id starts afresh.
  forgetQuiet(10)
  local ids = {}
  for i = 1, ns do ids[i] = sessions[5 * i - 4] end
  -- Which of them ended before (nil replies for the others, the common case, cost next to nothing).
  local wasEnded = {}
  for i = 1, ns, 500 do
    local j = math.min(i + 499, ns)
    local ended = redis.call('ZMSCORE', endedSessions, unpack(ids, i, j))
    for k = 1, j - i + 1 do wasEnded[i + k - 1] = ended[k] end
  end
  local firsts, lasts, ends, endedNow, toolCalls = {}, {}, {}, {}, {}
  for i = 1, ns do
    local o = 5 * i - 5
    local id, first, last, tools, ended = sessions[o + 1], sessions[o + 2], sessions[o + 3], sessions[o + 4], sessions[o + 5]
    firsts[#firsts + 1] = first; firsts[#firsts + 1] = id
    add(toolCalls, id, tools)
    if ended >= 0 or wasEnded[i] then
      ends[#ends + 1] = decimal(math.max(tonumber(last), ended)); ends[#ends + 1] = id
      if not wasEnded[i] then endedNow[#endedNow + 1] = id end
    else
      lasts[#lasts + 1] = last; lasts[#lasts + 1] = id
    end
  end
  addToHash(sessionToolCalls, toolCalls)
  chunked('ZADD', sessionFirstSeen, 'LT', firsts, 1000)
  chunked('ZADD', activeSessions, 'GT', lasts, 1000)
  chunked('ZADD', endedSessions, 'GT', ends, 1000)
  chunked('ZREM', activeSessions, nil, endedNow, 500)
  -- Events older than the timeout (a backfill) leave nothing behind either.
  forgetQuiet(1)
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
