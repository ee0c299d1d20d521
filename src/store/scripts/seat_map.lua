-- pieces: event map_key held_key now
-- Reads an event's whole seat map in one call, touching one string per row
-- and one small sorted set per row, never one key per seat: the rows' sold
-- state strings ('a'/'b' per seat) and the numbers of the seats whose hold
-- is still live. The component lays the holds over the strings.
--
-- The map's validator is createdAt.version.live: the event's version
-- (bumped by every script that changes what the map shows) and the number
-- of live hold entries. Holds expire with no script running, but the live
-- entries are always the latest-expiring ones of the index, so at one
-- version their number says which they are (removing expired entries never
-- changes it). ARGV[6...] are validators the client already has ('*' for
-- any): when one matches, the map is not built at all.
-- Returns {'no_event'}, {'not_modified', validator} or {'ok', validator,
-- name, createdAt, rowCount, heldCount, label..., states..., heldSeat...}
-- (Spin flattens the nested lists).
local event = redis.call('HMGET', EVENT_KEY, 'name', 'rows', 'createdAt')
if not event[1] then return {'no_event'} end
local labels = {}
for i, row in ipairs(cjson.decode(event[2])) do labels[i] = row[1] end
local now = now_ms()
local prefix = event[3] .. '.' .. (redis.call('GET', VERSION_KEY) or '0') .. '.'
if #ARGV >= 6 then
  local live = 0
  for _, label in ipairs(labels) do
    live = live + redis.call('ZCOUNT', held_key(label), '(' .. now, '+inf')
  end
  local validator = prefix .. live
  for i = 6, #ARGV do
    if ARGV[i] == validator or ARGV[i] == '*' then return {'not_modified', validator} end
  end
end
local states = redis.call('HMGET', MAP_KEY, unpack(labels))
local held = {}
for _, label in ipairs(labels) do
  for _, n in ipairs(redis.call('ZRANGEBYSCORE', held_key(label), '(' .. now, '+inf')) do
    held[#held + 1] = label .. '-' .. n
  end
end
return {'ok', prefix .. #held, event[1], event[3], #labels, #held, labels, states, held}
