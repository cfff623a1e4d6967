// The Lua scripts of the Redis bus: each runs at once in Redis, so that what it reads and writes is one step.

// The lease to write snapshots, taken (SET NX PX) or renewed by the node that holds it; 1 when it is this node's.
export const TAKE_LEASE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

export const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

// Keeps the snapshot only if this node holds the lease and it is newer than the stored one. Each
// room's history is in a key of its own, named for the snapshot that wrote it; the rooms that
// changed (ARGV[6]) were written before, with an expiry that this takes off (one expired since, the
// snapshot is not kept: it would name a history that is not there); the others keep the
// key the stored snapshot names, and the keys no longer named go. Then trims the stream below the
// snapshot before: a node that read the older one is still reading the events after it. A stored
// id that is not one (garbage) or is past the stream's end (forged) is written over, never obeyed.
export const SAVE_SNAPSHOT = `
if redis.call('GET', KEYS[3]) ~= ARGV[3] then return -1 end
local function id(text) local ms, seq = string.match(text or '', '^(%d+)-(%d+)$') return tonumber(ms), tonumber(seq) end
local function before(ams, aseq, bms, bseq) return ams < bms or (ams == bms and aseq < bseq) end
local prev = redis.call('HGET', KEYS[1], 'id')
local pms, pseq = id(prev)
if pms then
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
  local lms, lseq = id(last and last[1])
  if not lms or before(lms, lseq, pms, pseq) then pms = nil end
end
local nms, nseq = id(ARGV[1])
if pms and not before(pms, pseq, nms, nseq) then return 0 end
local ok, old = pcall(cjson.decode, redis.call('HGET', KEYS[1], 'histories') or '{}')
if not ok or type(old) ~= 'table' then old = {} end
local changed, refs = {}, {}
for _, room in ipairs(cjson.decode(ARGV[6])) do
  if redis.call('EXISTS', ARGV[4] .. room .. ':' .. ARGV[1]) == 0 then return -2 end
  changed[room] = true
end
for _, room in ipairs(cjson.decode(ARGV[5])) do
  if changed[room] then
    refs[room] = ARGV[1]
    redis.call('PERSIST', ARGV[4] .. room .. ':' .. ARGV[1])
  elseif type(old[room]) == 'string' then refs[room] = old[room] end
end
for room, at in pairs(old) do
  if type(room) == 'string' and type(at) == 'string' and refs[room] ~= at then redis.call('UNLINK', ARGV[4] .. room .. ':' .. at) end
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'state', ARGV[2], 'histories', cjson.encode(refs))
if pms then redis.call('XTRIM', KEYS[2], 'MINID', prev) end
return 1`;

// The snapshot and the histories it names, read at once: a snapshot written between two reads would
// mix two. Its third item says where the histories are: 'apart' (in keys of their own, the fourth
// item: room, lines, ...), false (in the state, from a node before), or 'garbage'.
export const LOAD_SNAPSHOT = `
local id = redis.call('HGET', KEYS[1], 'id')
local state = redis.call('HGET', KEYS[1], 'state')
local refs = redis.call('HGET', KEYS[1], 'histories')
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
local lines = {}
if not refs then return { id, state, false, lines, last } end
local ok, decoded = pcall(cjson.decode, refs)
if not ok or type(decoded) ~= 'table' then return { id, state, 'garbage', lines, last } end
for room, at in pairs(decoded) do
  if type(room) ~= 'string' or type(at) ~= 'string' then return { id, state, 'garbage', {}, last } end
  table.insert(lines, room)
  table.insert(lines, redis.call('GET', ARGV[1] .. room .. ':' .. at))
end
return { id, state, 'apart', lines, last }`;
