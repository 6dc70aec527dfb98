import TallyRedis

/// Lua scripts for the log's multi-command atomic steps.
enum LogScripts {
    /// The Lua that reads the entries to append from `ARGV[first]` on, laid out flat: each entry is its
    /// field count, then its names and values. `entries(first)` checks the whole layout before any write
    /// (at least 1 field, at most ``LogEntry/maxFields``, within `ARGV`, so that `XADD … unpack` cannot
    /// fail part-way; the logs check this before sending, and the script again) and returns the positions of the entries' counts; `add(stream, at)` appends one.
    /// Flat arguments, not JSON: the server neither decodes nor the node escapes the event text.
    static let entriesLua = """
    local function entries(first)
      local starts, i, n = {}, first, #ARGV
      while i <= n do
        local count = tonumber(ARGV[i])
        if not count or count % 1 ~= 0 or count < 1 or count > \(LogEntry.maxFields) or i + 2 * count > n then
          error({err = 'ERR entry ' .. (#starts + 1) .. ' to append has ' .. tostring(ARGV[i]) .. ' fields within the ' .. (n - i) .. ' values left: 1 to \(LogEntry.maxFields) fields, each a name and a value'})
        end
        starts[#starts + 1] = i
        i = i + 1 + 2 * count
      end
      return starts
    end
    local function add(stream, at)
      return redis.call('XADD', stream, '*', unpack(ARGV, at + 1, at + 2 * tonumber(ARGV[at])))
    end
    """

    /// The Lua that reads and advances the delivery fence (``RedisKeys/deliveryFence``), shared by
    /// ``advanceFence`` and ``ApplyScript``. `heldFence(key, held)` is the stored counter (0 when
    /// missing) or raises `TALLYSTATE` for anything else; `nextFence(old, micros)` is its next value,
    /// max(old + 1, now in µs), which never repeats, not even after the key was deleted or lost: a
    /// fence that came back to a value a batch was read with could let that batch count twice.
    static let fenceLua = """
    local function heldFence(key, held)
      if not held then return 0 end
      if #held > 18 or not string.find(held, '^%d+$') then
        error({err = 'TALLYSTATE ' .. key .. " holds '" .. string.sub(held, 1, 64) .. "', not a fence counter"})
      end
      return tonumber(held)
    end
    local function nextFence(old, micros)
      return string.format('%.0f', math.max(old + 1, math.floor(micros)))
    end
    """

    /// Advances the delivery fence on Redis's clock (``RedisEventLog/prepare()``, before it creates
    /// the group). KEYS: the fence. Returns the new value.
    static let advanceFence = RedisScript(#"""
    \#(fenceLua)
    local readable, old = pcall(heldFence, KEYS[1], redis.call('GET', KEYS[1]))
    -- (Redis 7.0 hands pcall an error table's text; later versions the table.)
    if not readable then return redis.error_reply(type(old) == 'table' and old.err or tostring(old)) end
    local t = redis.call('TIME')
    local value = nextFence(old, tonumber(t[1]) * 1000000 + tonumber(t[2]))
    redis.call('SET', KEYS[1], value)
    return value
    """#)

    /// ARGV as the append scripts take entries (see ``entriesLua``).
    static func entryArguments(_ entries: [[(name: String, value: String)]]) -> [RedisArgument] {
        var arguments: [RedisArgument] = []
        arguments.reserveCapacity(entries.reduce(0) { $0 + 1 + 2 * $1.count })
        for fields in entries {
            arguments.append(.integer(fields.count))
            for field in fields {
                arguments.append(.string(field.name))
                arguments.append(.string(field.value))
            }
        }
        return arguments
    }

    /// An ingest batch with its retry-safety records, in one atomic step on Redis's clock (`TIME`).
    ///
    /// KEYS: 1 stream, 2 idempotency hash (key → "fingerprint count"), 3 idempotency expiry zset
    /// (key → expiry ms), 4 evicted-keys counter, 5 dedupe slice map (ring position → slice number),
    /// 6… the dedupe ring's sets of event ids.
    /// ARGV: 1 JSON array, per entry, of its client id or ""; 2 JSON array of accepted-but-unstored
    /// client ids; 3 idempotency key or ""; 4 fingerprint; 5 accepted count; 6 idempotency window ms;
    /// 7 key bound; 8 dedupe slice ms (0 = off); 9… the entries (``entriesLua``).
    /// Replies {1, count} for a replay, {2, count} for a conflict, otherwise {0, {left-out entry
    /// positions, 0-based}, id…} with the ids of the stored entries in order.
    /// Every read comes before the first write; the writes are XADD, SADD, HSET, ZADD and their
    /// housekeeping on keys of the right type, which cannot fail on any payload.
    static let appendOnce = RedisScript(#"""
\#(entriesLua)
local function chunked(command, key, list)
  for i = 1, #list, 1000 do
    redis.call(command, key, unpack(list, i, math.min(i + 999, #list)))
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = ARGV[3]
if key ~= '' then
  local held = redis.call('HGET', KEYS[2], key)
  local expires = tonumber(redis.call('ZSCORE', KEYS[3], key))
  if held and expires and expires > now then
    local space = string.find(held, ' ', 1, true)
    local count = tonumber(string.sub(held, space + 1))
    if string.sub(held, 1, space - 1) == ARGV[4] then return {1, count} end
    return {2, count}
  end
end
local starts = entries(9)
local sliceMs = tonumber(ARGV[8])
local skip, fresh, dups = {}, {}, {}
local ring, slice, current, currentHeld
if sliceMs > 0 then
  ring = #KEYS - 5
  slice = math.floor(now / sliceMs)
  local positions = {}
  for pos = 0, ring - 1 do positions[#positions + 1] = pos end
  local held = redis.call('HMGET', KEYS[5], unpack(positions))
  currentHeld = tonumber(held[slice % ring + 1])
  current = KEYS[6 + slice % ring]
  local ids = cjson.decode(ARGV[1])
  local candidates = {}
  for _, id in ipairs(ids) do if id ~= '' then candidates[#candidates + 1] = id end end
  local seen = {}
  for pos = 0, ring - 1 do
    local s = tonumber(held[pos + 1])
    if s and s > slice - ring and s <= slice and #candidates > 0 then
      for i = 1, #candidates, 1000 do
        local part = {unpack(candidates, i, math.min(i + 999, #candidates))}
        local found = redis.call('SMISMEMBER', KEYS[6 + pos], unpack(part))
        for j, f in ipairs(found) do if f == 1 then seen[part[j]] = true end end
      end
    end
  end
  for i, id in ipairs(ids) do
    if id ~= '' then
      if seen[id] then
        skip[i] = true
        dups[#dups + 1] = i - 1
      else
        seen[id] = true
        fresh[#fresh + 1] = id
      end
    end
  end
  for _, id in ipairs(cjson.decode(ARGV[2])) do
    if not seen[id] then
      seen[id] = true
      fresh[#fresh + 1] = id
    end
  end
end
local reply = {0, dups}
for i, at in ipairs(starts) do
  if not skip[i] then reply[#reply + 1] = add(KEYS[1], at) end
end
if sliceMs > 0 then
  if currentHeld ~= slice then
    redis.call('DEL', current)
    redis.call('HSET', KEYS[5], slice % ring, slice)
  end
  if #fresh > 0 then chunked('SADD', current, fresh) end
  redis.call('PEXPIRE', current, sliceMs * (ring + 1))
  redis.call('PEXPIRE', KEYS[5], sliceMs * (ring + 1))
end
if key ~= '' then
  redis.call('HSET', KEYS[2], key, ARGV[4] .. ' ' .. ARGV[5])
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[6]), key)
  local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[7])
  if over > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[3], over)
    local gone = {}
    for i = 1, #popped, 2 do gone[#gone + 1] = popped[i] end
    chunked('HDEL', KEYS[2], gone)
    redis.call('INCRBY', KEYS[4], over)
  end
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)
if #expired > 0 then
  redis.call('HDEL', KEYS[2], unpack(expired))
  redis.call('ZREM', KEYS[3], unpack(expired))
end
return reply
"""#)

    /// KEYS[1] the shard-count key, KEYS[2] the single-shard event stream; ARGV[1] the configured
    /// count, ARGV[2] `record` or `check`. Returns the recorded count; when none is, the count the
    /// deployment runs (1 when the single-shard stream exists: a deployment from before the count
    /// was recorded; else the configured one), which `record` records.
    static let shardCount = RedisScript(#"""
    local stored = redis.call('GET', KEYS[1])
    if stored then return stored end
    local count = ARGV[1]
    if redis.call('EXISTS', KEYS[2]) == 1 then count = '1' end
    if ARGV[2] == 'record' then redis.call('SET', KEYS[1], count) end
    return count
    """#)

    /// KEYS: dead-letter stream, event stream. ARGV: dead-letter ids. Moves each back to the event stream
    /// as a new entry with its original fields (a fresh delivery count) and deletes it; returns how many.
    static let replay = RedisScript(#"""
local meta = {error = true, failed_at = true, deliveries = true, original_id = true}
local moved = 0
for _, id in ipairs(ARGV) do
  local e = redis.call('XRANGE', KEYS[1], id, id)
  if #e > 0 then
    local seen, fields = {}, {}
    local flat = e[1][2]
    for i = 1, #flat, 2 do
      local name = flat[i]
      if meta[name] and not seen[name] then
        seen[name] = true
      else
        fields[#fields + 1] = name
        fields[#fields + 1] = flat[i + 1]
      end
    end
    if #fields == 0 then fields = {'event', ''} end
    redis.call('XADD', KEYS[2], '*', unpack(fields))
    redis.call('XDEL', KEYS[1], id)
    moved = moved + 1
  end
end
return moved
"""#)

    /// KEYS: dead-letter stream. Deletes it; returns how many entries it had.
    static let purge = RedisScript(#"""
local n = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n
"""#)
}
