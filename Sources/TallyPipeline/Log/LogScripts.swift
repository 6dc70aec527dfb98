import TallyRedis

/// Lua scripts for the log's multi-command atomic steps.
enum LogScripts {
    /// KEYS: stream. ARGV[1]: JSON array of flat [name, value, …] arrays. Appends all in one step; returns the ids.
    static let append = RedisScript(#"""
local ids = {}
for _, fields in ipairs(cjson.decode(ARGV[1])) do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', unpack(fields))
end
return ids
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
