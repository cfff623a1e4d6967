/** The Lua scripts that make each of the Redis store's changes in one step, whatever other nodes do meanwhile. */

// Sets (or, with no record, removes) an account only if the kept one's hash is the expected one
// ('' for none), and says so on the channel, in one step: two nodes registering one name at once
// cannot both win. A new account, or none, has no login yet.
export const SET_ACCOUNT = `
local kept = redis.call('HGET', KEYS[1], ARGV[1])
local hash = ''
if kept then
  local ok, record = pcall(cjson.decode, kept)
  hash = (ok and type(record) == 'table' and type(record.hash) == 'string') and record.hash or '?'
end
if hash ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
if ARGV[2] == '' or ARGV[3] == '' then redis.call('HDEL', KEYS[2], ARGV[1]) end
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1`;

// A ban replaces the name's ban before it, and expired ones go, as in the chat's state.
export const BAN = `
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, ban = pcall(cjson.decode, all[i + 1])
  if ok and type(ban) == 'table' and type(ban['until']) == 'number' and ban['until'] <= tonumber(ARGV[3]) then redis.call('HDEL', KEYS[1], all[i]) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

// Moves fields from key to key in one step, if each checked one is still as read. ARGV is the
// channel of account changes, then, for each field: its hash (an index into KEYS; the first is
// the accounts), the field, its text as read ('' for none, ANY for unchecked) and the text to put
// ('' to remove it). Returns 0, changing nothing, when a checked field changed since it was read.
export const ANY = '*'; // no account, ban (JSON) or name (which may not start with *) is this
export const MOVE_KEYS = `
for i = 2, #ARGV, 4 do
  local kept = redis.call('HGET', KEYS[tonumber(ARGV[i])], ARGV[i + 1]) or ''
  if ARGV[i + 2] ~= '${ANY}' and kept ~= ARGV[i + 2] then return 0 end
end
for i = 2, #ARGV, 4 do
  local hash, field, put = KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 3]
  if put == '' then redis.call('HDEL', hash, field) else redis.call('HSET', hash, field, put) end
  if ARGV[i] == '1' then redis.call('PUBLISH', ARGV[1], field) end
end
return 1`;

// A name's bucket of wrong checks, as `reserved` and `refunded` in throttle.ts compute it, in one
// step, on Redis's clock: checks made on two nodes at once are spaced as if made on one, and a
// node whose clock is off waits no more for it. Answers the wait before the check's turn (-1:
// past the longest wait, not reserved) and the level. ARGV: mode, leakMs, free checks, first
// spacing, longest wait.
export const GUESSES = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local leak, free, first, cap = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local kept = redis.call('HMGET', KEYS[1], 'level', 'at', 'next')
local level = math.max(0, (tonumber(kept[1]) or 0) - math.max(0, now - (tonumber(kept[2]) or now)) / leak)
local nextAt = tonumber(kept[3]) or now
local slot = math.max(now, nextAt)
if ARGV[1] == 'refund' then
  level = math.max(0, level - 1)
else
  if slot - now > cap then return {-1, tostring(level)} end
  level = level + 1
  local spacing = 0
  if math.ceil(level) >= free then spacing = math.min(cap, first * 2 ^ (level - free)) end
  nextAt = slot + spacing
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now), 'next', tostring(nextAt))
redis.call('PEXPIRE', KEYS[1], math.ceil(level * leak + math.max(0, nextAt - now)) + 1000)
return {slot - now, tostring(level)}`;

// Notes a login; the first one is announced, for an account never logged into expires (and every
// node must learn that this one no longer will).
export const LOGGED_IN = `
if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('PUBLISH', ARGV[3], ARGV[1]) end
return 1`;

// Counts one registration in its window's key, which goes once the window (ARGV[1] ms) is over.
export const COUNT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;
