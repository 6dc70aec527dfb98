import TallyRedis

/// The Lua script that makes a batch's effect exactly-once on Redis.
///
/// It runs on Redis's clock: `TIME`, read inside the script, decides which of
/// the batch's buckets are still in the window and which sessions are quiet
/// (the payload names a time only in tests). Every bucket it writes gets a new
/// version (`v`), so that readers can keep the buckets that did not change.
///
/// **The rule: every check and every call that can fail comes before the
/// first write.** Redis keeps whatever a script wrote before an error, so a
/// failure after a write would apply half a batch. Part 1 reads and checks
/// only, in six steps (`readPayload`, `checkKeyTypes`, `checkOwnership`,
/// `planCounts`, `planSessions`, `planDeadLetters`) that fill one plan: the server's version; the payload's shape, numbers (finite, within
/// ``ApplyLimits``) and stream ids; the type of every key; ownership — the
/// first commit of a read's batch carries the read's fence (``LogRead``), and
/// while `{tally}:events:fence` still holds it no other commit can have
/// applied any of its entries, so one `XPENDING` summary suffices; any other
/// commit checks entry by entry (`XPENDING`, one range query for the batch —
/// if an entry is no longer pending for this consumer it returns the lost ids
/// and changes nothing) and, when it acknowledges, changes the fence;
/// admission of new tools and codes up to their caps; every stored value the
/// batch adds to (a finite number, and still finite after the addition); the
/// quiet sessions to forget; the dead letters' original entries (at most
/// ``ApplyLimits/maxDeadLetterFields`` fields kept). Part 2 writes, with calls
/// that cannot fail on any payload: keys whose type was checked, arguments
/// built from checked values, every `unpack` chunked. It adds the window
/// buckets' counts and sketch bins (one `HMGET` in part 1 and one `HSET` per
/// hash, `EXPIREAT` after the window), the all-time tool and code totals, the
/// sessions (first seen with `ZADD LT`, last seen with `ZADD GT`, tool
/// counts, ended sessions; sessions quiet past the timeout are removed),
/// copies dead letters to the dead-letter stream with `error`, `failed_at`,
/// `deliveries`, `original_id` and the original fields, and acknowledges
/// everything. Redis itself refuses `OOM`, `READONLY` and `MISCONF` at a
/// script's first write, before anything changed.
///
/// A refusal is an error reply: `TALLYINPUT …` when the payload is at fault
/// (``ApplyError/Kind/input``), `TALLYSTATE …` when the server or the stored
/// state is (``ApplyError/Kind/state``).
///
/// KEYS: every key the script touches, all under one hash tag: the event
/// stream, the dead-letter stream, the tool and code sets and totals, the
/// session sets, the delivery fence (``ApplyPayload/fixedKeys(_:)``), then the batch's window
/// buckets, which the payload names by index.
enum ApplyScript {
    static let script = RedisScript(#"""
-- Tally's apply-and-acknowledge step.
--
-- THE RULE OF THIS SCRIPT: every check and every call that can fail comes before the first write.
-- Redis keeps what a script wrote before an error (nothing rolls it back), so a failure after a
-- write would apply half a batch. Part 1 only reads and checks; part 2 only writes, and uses only
-- calls that cannot fail on any payload: keys whose type part 1 checked, arguments built from
-- values part 1 checked, every unpack chunked (Lua's unpack fails past about 8,000 values).
-- Redis refuses OOM, READONLY and MISCONF at a script's first write, before anything changed.
-- Refusals are error replies: 'TALLYINPUT ...' when the payload is at fault (something in the
-- batch), 'TALLYSTATE ...' when the server or the stored state is (every batch touching it fails).
if (redis.REDIS_VERSION_NUM or 0) < 0x070000 then
  return redis.error_reply('TALLYSTATE Redis ' .. tostring(redis.REDIS_VERSION or 'before 7.0') .. ' is too old: Tally needs 7.0 or later')
end
local MAX_AMOUNT, MAX_TIME, MAX_DEAD_FIELDS = \#(JSONWriter.decimal(ApplyLimits.maxAmount)), \#(JSONWriter.decimal(ApplyLimits.maxTime)), \#(ApplyLimits.maxDeadLetterFields)
-- Names shared with the Swift readers and writers (RedisStateStore.BucketField, DeadLetter.Field, StateConfiguration).
local OVERFLOW = '\#(StateConfiguration.overflowValue)'
local B_VERSION = '\#(RedisStateStore.BucketField.version)'
local B_N, B_A, B_SUM, B_ZERO, B_SUCCESS, B_FAILURE = '\#(RedisStateStore.BucketField.completions)', '\#(RedisStateStore.BucketField.accepted)', '\#(RedisStateStore.BucketField.latencySum)', '\#(RedisStateStore.BucketField.zeroLatencies)', '\#(RedisStateStore.BucketField.toolSuccessPrefix)', '\#(RedisStateStore.BucketField.toolFailurePrefix)'
local DL_ERROR, DL_FAILED_AT, DL_DELIVERIES, DL_ORIGINAL_ID = '\#(DeadLetter.Field.error)', '\#(DeadLetter.Field.failedAt)', '\#(DeadLetter.Field.deliveries)', '\#(DeadLetter.Field.originalID)'
local decoded, p = pcall(cjson.decode, ARGV[1])
if not decoded or type(p) ~= 'table' then return redis.error_reply('TALLYINPUT the payload is not a JSON object') end
local stream, dlq = KEYS[1], KEYS[2]
local knownTools, knownCodes, toolSuccesses, toolFailures = KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local codeTotals, activeSessions, sessionFirstSeen, sessionToolCalls, endedSessions = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local fence = KEYS[12]
\#(LogScripts.fenceLua)

-- `args[from..to]` (all of `args` by default), `step` values a call.
local function chunked(command, key, option, args, step, from, to)
  from, to = from or 1, to or #args
  for i = from, to, step do
    if option then
      redis.call(command, key, option, unpack(args, i, math.min(i + step - 1, to)))
    else
      redis.call(command, key, unpack(args, i, math.min(i + step - 1, to)))
    end
  end
end
local HUGE, format = math.huge, string.format
-- Integers as integers ('%d' costs about half of Lua's own '%.14g' conversion); other doubles with
-- '%.17g', which reads back exactly.
local function decimal(v)
  if v % 1 == 0 and v > -1e14 and v < 1e14 then return format('%d', v) end
  return format('%.17g', v)
end
local function add(amounts, field, amount)
  if amount ~= 0 then amounts[field] = (amounts[field] or 0) + amount end
end

-- ==================================================== Part 1: reads and checks, no writes.
local function refuse(kind, message) error({err = kind .. ' ' .. message}) end
local function describe(v)
  if type(v) == 'string' then return "'" .. string.sub(v, 1, 64) .. "'" end
  return tostring(v)
end
-- The checks build their messages only when they refuse: `what` names the value, `at` (optional) which one.
local function label(what, at)
  if at == nil then return what end
  return what .. ' ' .. describe(at)
end
local function number(v, lo, hi, what, at)
  if type(v) ~= 'number' or v ~= v or v < lo or v > hi then
    refuse('TALLYINPUT', label(what, at) .. ' is ' .. describe(v) .. ', not a number in ' .. lo .. '..' .. hi)
  end
  return v
end
local function whole(v, lo, hi, what, at)
  number(v, lo, hi, what, at)
  if v ~= math.floor(v) then refuse('TALLYINPUT', label(what, at) .. ' is ' .. v .. ', not a whole number') end
  return v
end
local function text(v, what, at)
  if type(v) ~= 'string' then refuse('TALLYINPUT', label(what, at) .. ' is ' .. describe(v) .. ', not a string') end
  return v
end
local function array(v, what, at)
  if type(v) ~= 'table' then refuse('TALLYINPUT', label(what, at) .. ' is ' .. describe(v) .. ', not an array') end
  return v
end
local function u64(digits)
  return #digits < 20 or (#digits == 20 and digits <= '18446744073709551615')
end
local function streamID(v, what, at)
  text(v, what, at)
  local ms, seq = string.match(v, '^(%d+)%-(%d+)$')
  if not ms or not u64(ms) or not u64(seq) then refuse('TALLYINPUT', label(what, at) .. ' is ' .. describe(v) .. ', not a stream id') end
  return v
end
local function expect(key, wanted)
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'none' and t ~= wanted then refuse('TALLYSTATE', key .. ' is a ' .. t .. ' where Tally keeps a ' .. wanted) end
end

-- Adds a flat [name, count, ...] list to `amounts`: every name a string, every count a number in
-- 0..MAX_AMOUNT. The messages are built only when a check refuses: these loops run once per bin
-- and once per session.
local function addChecked(amounts, list, nameWhat, countWhat)
  for j = 1, #list, 2 do
    local name, count = list[j], list[j + 1]
    if type(name) ~= 'string' or type(count) ~= 'number' or not (count >= 0 and count <= MAX_AMOUNT) then
      text(name, nameWhat, j)
      number(count, 0, MAX_AMOUNT, countWhat, name)
    end
    add(amounts, name, count)
  end
end

-- Everything part 2 does, decided by the steps below and run in order by prepare().
local plan = {hashes = {}, expiries = {}, letters = {}}

-- Each hash's new values from one HMGET per 500 fields: stored values must be finite numbers,
-- and the sums must stay finite. `reset` fields count as 0 (they are removed before the HSET).
local function planHash(key, amounts, reset)
  local fields, nf = {}, 0
  for field, amount in pairs(amounts) do
    if amount ~= 0 then
      nf = nf + 1
      fields[nf] = field
    end
  end
  local args, na = {}, 0
  for i = 1, nf, 500 do
    local j = math.min(i + 499, nf)
    local current = redis.call('HMGET', key, unpack(fields, i, j))
    for k = i, j do
      local field, held, base = fields[k], current[k - i + 1], 0
      if held and not (reset and reset[field]) then
        base = tonumber(held)
        if base == nil or base ~= base or base == HUGE or base == -HUGE then
          refuse('TALLYSTATE', key .. ' field ' .. describe(field) .. ' holds ' .. describe(held) .. ', not a finite number')
        end
      end
      local v = base + amounts[field]
      if v ~= v or v == HUGE or v == -HUGE then refuse('TALLYSTATE', key .. ' field ' .. describe(field) .. ' would become ' .. tostring(v)) end
      args[na + 1] = field
      args[na + 2] = decimal(v)
      na = na + 2
    end
  end
  return args
end

-- Step 1. The payload: its settings, its lists and the ARGV layout, every value checked (the
-- sessions' values where step 5 uses them: those loops are the hot path). Returns the batch.
local function readPayload()
  local group, consumer = text(p.group, 'group'), text(p.consumer, 'consumer')
  -- One clock: Redis's own decides which buckets are still in the window, which sessions are quiet
  -- and when a dead letter failed (a payload names a time only in tests that replay a moment).
  local now = p.now
  if now == nil then
    local t = redis.call('TIME')
    now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  end
  number(now, 0, MAX_TIME, 'now')
  if now == MAX_TIME then refuse('TALLYINPUT', 'now is not before ' .. MAX_TIME) end
  local width = whole(p.bucketSeconds, 1, MAX_TIME - 1, 'bucketSeconds')
  local oldest = math.floor(now / width) * width - width * whole(p.wholeBuckets, 1, MAX_TIME - 1, 'wholeBuckets')
  local timeout = number(p.sessionTimeout, 0, MAX_TIME, 'sessionTimeout')
  local maxTools = number(p.maxTools, 0, MAX_AMOUNT, 'maxTools')
  local maxCodes = number(p.maxCodes, 0, MAX_AMOUNT, 'maxCodes')
  -- ARGV: this JSON, the ids to acknowledge, then (score, id) pairs in three runs: first seen only,
  -- shared (a first seen that is also the last seen), last seen only. `nFirst` pairs from
  -- `firstFrom` are every session's first seen; `nLast` pairs from `lastFrom` the last seen of
  -- those that do not end in this batch.
  local acks = whole(p.acks, 0, #ARGV, 'acks')
  local nFirst, nLast = whole(p.firsts, 0, #ARGV, 'firsts'), whole(p.lasts, 0, #ARGV, 'lasts')
  local shared = whole(p.shared, 0, math.min(nFirst, nLast), 'shared')
  if 1 + acks + 2 * (nFirst + nLast - shared) ~= #ARGV then
    refuse('TALLYINPUT', 'the arguments are not the payload, ' .. acks .. ' ids and ' .. (nFirst + nLast - shared) .. ' session time pairs but ' .. #ARGV .. ' values')
  end
  local firstFrom = 2 + acks
  local lastFrom = firstFrom + 2 * (nFirst - shared)
  local ack = {}
  for i = 1, acks do ack[i] = ARGV[1 + i] end
  local dead = array(p.dead, 'dead')
  -- The acknowledged ids are checked by the ownership check below: entry by entry, any id that is
  -- not pending for this consumer is refused; fenced, each id's form.
  for i = 1, #dead do
    local d = array(dead[i], 'dead letter', i)
    streamID(d[1], 'dead letter id', i)
    text(d[2], 'dead letter error', i)
    whole(d[3], 0, MAX_AMOUNT, 'dead letter deliveries', i)
  end
  if #ack + #dead > 0 then
    if group == '' then refuse('TALLYINPUT', 'entries to acknowledge without a consumer group') end
    streamID(p.lo, 'lo')
    streamID(p.hi, 'hi')
  end
  local function outcomes(list, what)
    array(list, what)
    for j = 1, #list do
      local t = array(list[j], what, j)
      text(t[1], what .. ' name', j)
      number(t[2], 0, MAX_AMOUNT, what .. ' successes', t[1])
      number(t[3], 0, MAX_AMOUNT, what .. ' failures', t[1])
    end
    return list
  end
  -- The buckets still in the window at `now`; older ones are left out whole.
  local given = array(p.buckets, 'buckets')
  local buckets = {}
  for i = 1, #given do
    local b = array(given[i], 'bucket', i)
    if whole(b.start, 0, MAX_TIME - 1, 'bucket start', i) >= oldest then buckets[#buckets + 1] = b end
  end
  for i = 1, #buckets do
    local b = buckets[i]
    whole(b.key, 13, #KEYS, 'bucket key index', i)
    number(b.n, 0, MAX_AMOUNT, 'bucket n', i)
    number(b.a, 0, MAX_AMOUNT, 'bucket a', i)
    number(b.sum, 0, MAX_AMOUNT, 'bucket sum', i)
    number(b.zero, 0, MAX_AMOUNT, 'bucket zero', i)
    local bins = array(b.bins, 'bucket bins', i)
    if #bins % 2 ~= 0 then refuse('TALLYINPUT', 'bucket ' .. i .. ' bins are not name, count pairs') end
    -- (each bin is checked where its count is added, below)
    outcomes(b.tools, 'bucket tool')
    whole(b.expireAt, 1, MAX_TIME - 1, 'bucket expiry', i)
  end
  local tools = outcomes(p.tools, 'tool')
  local codes = array(p.codes, 'codes')
  for j = 1, #codes do
    local c = array(codes[j], 'code', j)
    text(c[1], 'code name', j)
    number(c[2], 0, MAX_AMOUNT, 'code count', c[1])
  end
  local ending, calls = array(p.ending, 'ending'), array(p.calls, 'calls')
  if #ending % 3 ~= 0 then refuse('TALLYINPUT', 'ending sessions are not id, last seen, end triples') end
  if #calls % 2 ~= 0 then refuse('TALLYINPUT', 'session tool calls are not id, count pairs') end
  if nFirst == 0 and (nLast + #ending + #calls) > 0 then refuse('TALLYINPUT', 'session values without sessions') end
  return {group = group, consumer = consumer, now = now, timeout = timeout, maxTools = maxTools, maxCodes = maxCodes,
          nFirst = nFirst, nLast = nLast, firstFrom = firstFrom, lastFrom = lastFrom, ack = ack, dead = dead,
          buckets = buckets, tools = tools, codes = codes, ending = ending, calls = calls}
end

-- Step 2. Every key has the type Tally keeps in it (or does not exist yet).
local function checkKeyTypes(buckets)
  expect(stream, 'stream')
  expect(dlq, 'stream')
  expect(knownTools, 'set')
  expect(knownCodes, 'set')
  expect(toolSuccesses, 'hash')
  expect(toolFailures, 'hash')
  expect(codeTotals, 'hash')
  expect(sessionToolCalls, 'hash')
  expect(activeSessions, 'zset')
  expect(sessionFirstSeen, 'zset')
  expect(endedSessions, 'zset')
  expect(fence, 'string')
  for i = 1, #buckets do expect(KEYS[buckets[i].key], 'hash') end
end

-- Step 3. Ownership: false, with plan.lost, when an entry is no longer this consumer's.
local function checkOwnership(b)
  local group, consumer, now, ack, dead = b.group, b.consumer, b.now, b.ack, b.dead
  -- The delivery fence: a counter, or missing until the first commit or start-up sets it.
  local fenceHeld = redis.call('GET', fence)
  local fenceOld = heldFence(fence, fenceHeld)
  local fenceGiven = p.fence
  if fenceGiven ~= nil then text(fenceGiven, 'fence') end
  -- Ownership. Fenced: the first commit of a read's batch, the fence unchanged since that read. Every
  -- other commit that acknowledges entries changes the fence, so none can have applied any of these
  -- entries; the summary confirms the group exists and this consumer holds at least that many, and
  -- the ids are checked for form (XACK below must not fail). Otherwise one range query for the batch:
  -- this consumer's pending entries between the lowest and highest id.
  local fenced = false
  if #ack + #dead > 0 and fenceGiven ~= nil and fenceGiven == fenceHeld then
    local holding = 0
    for _, c in ipairs(redis.call('XPENDING', stream, group)[4] or {}) do
      if c[1] == consumer then holding = tonumber(c[2]) end
    end
    fenced = holding >= #ack + #dead
    if fenced then
      for i = 1, #ack do
        local id = ack[i]
        if type(id) ~= 'string' or #id > 20 or not string.find(id, '^%d+%-%d+$') then streamID(id, 'acknowledged id', i) end
      end
    end
  end
  if #ack + #dead > 0 and not fenced then
    local owned = {}
    local limit = 4 * (#ack + #dead) + 1000
    local range = redis.call('XPENDING', stream, group, p.lo, p.hi, limit, consumer)
    local complete = #range < limit
    for _, r in ipairs(range) do owned[r[1]] = true end
    local lost = {}
    local function check(id)
      if owned[id] then return end
      if not complete then
        local one = redis.call('XPENDING', stream, group, id, id, 1)
        if #one > 0 and one[1][2] == consumer then return end
      end
      lost[#lost + 1] = id
    end
    for _, id in ipairs(ack) do check(id) end
    for _, d in ipairs(dead) do check(d[1]) end
    if #lost > 0 then
      plan.lost = lost
      return false
    end
    -- Not a read's first commit (a retry, a claimed batch, entries read again): a first commit
    -- fenced before now must find the fence changed.
    if fenceGiven == nil then plan.nextFence = nextFence(fenceOld, now * 1000000) end
  end
  plan.group, plan.ack, plan.dead, plan.nowText = group, ack, dead, format('%.6f', now)
  return true
end

-- Step 4. The counts: admission of new tools and codes, the amounts to add, each hash's new
-- values and each written bucket's version.
local function planCounts(b)
  local buckets, tools, codes, now = b.buckets, b.tools, b.codes, b.now
  -- Admission of new tools and codes up to their caps, in name order; the rest count as '__overflow__'.
  local function admit(set, names, cap)
    local effective, added = {}, {}
    if #names == 0 then return effective, added end
    local size = redis.call('SCARD', set)
    for i = 1, #names, 500 do
      local j = math.min(i + 499, #names)
      local found = redis.call('SMISMEMBER', set, unpack(names, i, j))
      for k = i, j do
        local name = names[k]
        if effective[name] == nil then
          if found[k - i + 1] == 1 then
            effective[name] = name
          elseif size < cap then
            size = size + 1
            added[#added + 1] = name
            effective[name] = name
          else
            effective[name] = OVERFLOW
          end
        end
      end
    end
    return effective, added
  end
  local toolNames, codeNames = {}, {}
  for j = 1, #tools do toolNames[j] = tools[j][1] end
  for j = 1, #codes do codeNames[j] = codes[j][1] end
  local toolName, codeName
  toolName, plan.toolsAdded = admit(knownTools, toolNames, b.maxTools)
  codeName, plan.codesAdded = admit(knownCodes, codeNames, b.maxCodes)
  -- Tools of the buckets that are not among the batch's totals (never, from Tally's payload): looked up, not admitted.
  local unknown = {}
  for i = 1, #buckets do
    for _, t in ipairs(buckets[i].tools) do
      if toolName[t[1]] == nil then
        toolName[t[1]] = false
        unknown[#unknown + 1] = t[1]
      end
    end
  end
  for i = 1, #unknown, 500 do
    local j = math.min(i + 499, #unknown)
    local found = redis.call('SMISMEMBER', knownTools, unpack(unknown, i, j))
    for k = i, j do toolName[unknown[k]] = found[k - i + 1] == 1 and unknown[k] or OVERFLOW end
  end

  -- The amounts to add, one table per hash (a key named twice adds up).
  local changes, order = {}, {}
  local function change(key)
    if changes[key] == nil then
      changes[key] = {}
      order[#order + 1] = key
    end
    return changes[key]
  end
  for i = 1, #buckets do
    local b = buckets[i]
    local amounts = change(KEYS[b.key])
    add(amounts, B_N, b.n)
    add(amounts, B_A, b.a)
    add(amounts, B_SUM, b.sum)
    add(amounts, B_ZERO, b.zero)
    addChecked(amounts, b.bins, 'bin name', 'bin')
    for _, t in ipairs(b.tools) do
      add(amounts, B_SUCCESS .. toolName[t[1]], t[2])
      add(amounts, B_FAILURE .. toolName[t[1]], t[3])
    end
    plan.expiries[#plan.expiries + 1] = {KEYS[b.key], b.expireAt}
  end
  local successes, failures, totals = change(toolSuccesses), change(toolFailures), change(codeTotals)
  for _, t in ipairs(tools) do
    add(successes, toolName[t[1]], t[2])
    add(failures, toolName[t[1]], t[3])
  end
  for _, c in ipairs(codes) do add(totals, codeName[c[1]], c[2]) end
  for _, key in ipairs(order) do
    plan.hashes[#plan.hashes + 1] = {key, planHash(key, changes[key])}
  end
  -- Each written bucket gets a new version, max(old + 1, now in µs): it never repeats, not even
  -- after the state was lost and rebuilt, so a reader may keep an unchanged bucket's contents.
  local micros = math.floor(now * 1000000)
  for _, h in ipairs(plan.hashes) do
    if h[1] ~= toolSuccesses and h[1] ~= toolFailures and h[1] ~= codeTotals then
      local held = redis.call('HGET', h[1], B_VERSION)
      local old = 0
      if held then
        old = tonumber(held)
        if old == nil or old ~= math.floor(old) or old < 0 or old >= 1e17 then
          refuse('TALLYSTATE', h[1] .. ' field ' .. describe(B_VERSION) .. ' holds ' .. describe(held) .. ', not a version')
        end
      end
      local args = h[2]
      args[#args + 1] = B_VERSION
      args[#args + 1] = format('%.0f', math.max(old + 1, micros))
    end
  end

end

-- Step 5. Sessions: a few multi-member calls per batch, not a few calls per session.
local function planSessions(b)
  local now, nFirst, nLast, firstFrom, lastFrom, ending, calls = b.now, b.nFirst, b.nLast, b.firstFrom, b.lastFrom, b.ending, b.calls
  if nFirst > 0 then
    -- ARGV positions of the first seen pairs and of the last seen pairs.
    local s = {cutoff = '(' .. (now - b.timeout), gone = {{}, {}}, firstFrom = firstFrom, firstTo = firstFrom + 2 * nFirst - 1,
               lastFrom = lastFrom, lastTo = lastFrom + 2 * nLast - 1}
    -- Sessions quiet for longer than the timeout (live or ended) leave every session key before this
    -- batch's changes (so that a returning id starts afresh), up to 10 × 2,000 from each set.
    local forgotten, endedForgotten = {}, {}
    for n, set in ipairs({activeSessions, endedSessions}) do
      local gone = s.gone[n]
      for round = 0, 9 do
        local found = redis.call('ZRANGEBYSCORE', set, '-inf', s.cutoff, 'LIMIT', round * 2000, 2000)
        for _, id in ipairs(found) do
          gone[#gone + 1] = id
          forgotten[id] = true
          if n == 2 then endedForgotten[id] = true end
        end
        if #found < 2000 then break end
      end
    end
    -- The first and last seen times go to ZADD as the text they came in: plain decimals (digits, at
    -- most one point, no sign or exponent; at most 12 digits before the point, so below MAX_TIME),
    -- which Lua and Redis's own parser read alike. Checked by pattern: this is the hot path.
    -- A text checked once is not checked again (a session seen once in the batch has its first seen
    -- time as its last; Lua strings are interned, so the lookup is cheap).
    local plain = {}
    for i = firstFrom, lastFrom + 2 * nLast - 1, 2 do
      local v = ARGV[i]
      if not plain[v] then
        if not (#v <= 400 and string.find(v, '^%d+%.?%d*$') and (#v <= 12 or (string.find(v, '.', 1, true) or 400) <= 13)) then
          refuse('TALLYINPUT', 'session ' .. describe(ARGV[i + 1]) .. ' has the time ' .. describe(v) .. ', not a plain decimal in 0..' .. MAX_TIME .. ' (exclusive)')
        end
        plain[v] = true
      end
    end
    -- Which of them ended before. With no ended session at all (a deployment that sends no
    -- session_end, or none within the timeout), none did: no call.
    local endedBefore, anyEndedBefore = {}, false
    if redis.call('ZCARD', endedSessions) > #s.gone[2] then
      for i = 1, nFirst, 500 do
        local j = math.min(i + 499, nFirst)
        local ids = {}
        for k = i, j do ids[#ids + 1] = ARGV[firstFrom + 2 * k - 1] end
        local held = redis.call('ZMSCORE', endedSessions, unpack(ids))
        for k = 1, #ids do
          if held[k] and not endedForgotten[ids[k]] then
            endedBefore[ids[k]] = true
            anyEndedBefore = true
          end
        end
      end
    end
    -- Sessions that ended before stay ended: their last seen goes to the ended set, not the live one.
    local ends, endedNow, endingAt = {}, {}, {}
    if anyEndedBefore then
      s.lasts = {}
      for i = lastFrom, lastFrom + 2 * nLast - 1, 2 do
        local list = endedBefore[ARGV[i + 1]] and ends or s.lasts
        list[#list + 1] = ARGV[i]; list[#list + 1] = ARGV[i + 1]
      end
    end
    -- Sessions that end in this batch: scored by their last event over every batch (a late
    -- session_end must not make a live session look quiet), so their stored last seen counts too,
    -- unless it was quiet and is forgotten above.
    for i = 1, #ending, 3 do
      local id, last, ended = text(ending[i], 'ending session', i), ending[i + 1], ending[i + 2]
      number(last, 0, MAX_TIME, 'last seen of ending session', id)
      number(ended, 0, MAX_TIME, 'end of session', id)
      if last == MAX_TIME or ended == MAX_TIME then refuse('TALLYINPUT', 'session ' .. describe(id) .. ' has a time not below ' .. MAX_TIME) end
      ends[#ends + 1] = math.max(last, ended); ends[#ends + 1] = id
      if not endedBefore[id] then
        endedNow[#endedNow + 1] = id
        endingAt[#endingAt + 1] = #ends - 1
      end
    end
    for i = 1, #endedNow, 500 do
      local j = math.min(i + 499, #endedNow)
      local held = redis.call('ZMSCORE', activeSessions, unpack(endedNow, i, j))
      for k = i, j do
        local last = tonumber(held[k - i + 1])
        local at = endingAt[k]
        if last and not forgotten[endedNow[k]] and last > ends[at] then ends[at] = last end
      end
    end
    local toolCalls = {}
    addChecked(toolCalls, calls, 'session', 'tool calls of session')
    s.toolCalls = planHash(sessionToolCalls, toolCalls, forgotten)
    s.ends, s.endedNow = ends, endedNow
    plan.sessions = s
  end

end

-- Step 6. Dead letters: the original entries' fields, at most MAX_DEAD_FIELDS of them.
local function planDeadLetters(dead)
  if #dead > 0 then
    if redis.call('TYPE', dlq)['ok'] == 'stream' then
      local info = redis.call('XINFO', 'STREAM', dlq)
      for i = 1, #info - 1, 2 do
        if info[i] == 'last-generated-id' and info[i + 1] == '18446744073709551615-18446744073709551615' then
          refuse('TALLYSTATE', dlq .. ' has used the last possible stream id')
        end
      end
    end
    for i, d in ipairs(dead) do
      local fields = {DL_ERROR, d[2], DL_FAILED_AT, plan.nowText, DL_DELIVERIES, decimal(d[3]), DL_ORIGINAL_ID, d[1]}
      local e = redis.call('XRANGE', stream, d[1], d[1])
      if #e > 0 then
        local flat = e[1][2]
        local n = math.min(#flat, 2 * MAX_DEAD_FIELDS)
        for j = 1, n do fields[#fields + 1] = flat[j] end
        if #flat > n then
          fields[2] = d[2] .. ' [the entry had ' .. (#flat / 2) .. ' fields; this dead letter keeps the first ' .. MAX_DEAD_FIELDS .. ']'
        end
      end
      plan.letters[i] = fields
    end
  end
end

local function prepare()
  local b = readPayload()
  checkKeyTypes(b.buckets)
  if not checkOwnership(b) then return end
  planCounts(b)
  planSessions(b)
  planDeadLetters(b.dead)
end
local prepared, failure = pcall(prepare)
if not prepared then
  -- A refusal, or a Redis error (a table, or in older servers its text): passed on with its code.
  if type(failure) == 'table' and failure.err then return redis.error_reply(failure.err) end
  if type(failure) == 'string' and string.find(failure, '^[A-Z]+ ') then return redis.error_reply(failure) end
  return redis.error_reply('ERR ' .. tostring(failure))
end
if plan.lost then return {0, plan.lost} end

-- ==================================================== Part 2: writes. Nothing below can fail.
if plan.nextFence then redis.call('SET', fence, plan.nextFence) end
chunked('SADD', knownTools, nil, plan.toolsAdded, 500)
chunked('SADD', knownCodes, nil, plan.codesAdded, 500)
for _, h in ipairs(plan.hashes) do chunked('HSET', h[1], nil, h[2], 1000) end
for _, e in ipairs(plan.expiries) do redis.call('EXPIREAT', e[1], e[2]) end
local s = plan.sessions
if s then
  local function forget(set, gone)
    chunked('ZREM', set, nil, gone, 500)
    chunked('ZREM', sessionFirstSeen, nil, gone, 500)
    chunked('HDEL', sessionToolCalls, nil, gone, 500)
  end
  forget(activeSessions, s.gone[1])
  forget(endedSessions, s.gone[2])
  chunked('HSET', sessionToolCalls, nil, s.toolCalls, 1000)
  chunked('ZADD', sessionFirstSeen, 'LT', ARGV, 1000, s.firstFrom, s.firstTo)
  if s.lasts then
    chunked('ZADD', activeSessions, 'GT', s.lasts, 1000)
  else
    chunked('ZADD', activeSessions, 'GT', ARGV, 1000, s.lastFrom, s.lastTo)
  end
  chunked('ZADD', endedSessions, 'GT', s.ends, 1000)
  chunked('ZREM', activeSessions, nil, s.endedNow, 500)
  -- Events older than the timeout (a backfill) leave nothing behind either. A read on a key of a
  -- checked type with a checked range cannot fail, nor can what removes its members.
  for _, set in ipairs({activeSessions, endedSessions}) do
    forget(set, redis.call('ZRANGEBYSCORE', set, '-inf', s.cutoff, 'LIMIT', 0, 2000))
  end
end
for i, fields in ipairs(plan.letters) do
  redis.call('XADD', dlq, '*', unpack(fields))
  redis.call('XACK', stream, plan.group, plan.dead[i][1])
end
local acked = 0
local ack = plan.ack or {}
for i = 1, #ack, 500 do
  acked = acked + redis.call('XACK', stream, plan.group, unpack(ack, i, math.min(i + 499, #ack)))
end
return {1, acked, #plan.letters}
"""#)

    /// Runs the script; its refusals are thrown as ``ApplyError``.
    static func run(_ payload: ApplyPayload, on client: any RedisClient) async throws -> RESPValue {
        do {
            return try await client.evalScript(script, keys: payload.keys, arguments: payload.arguments)
        } catch {
            throw ApplyError.mapping(error)
        }
    }
}
