-- needs: EVENT_KEY HOLDS_KEY MAP_KEY VERSION_KEY held_key now_ms
-- Reads an event's whole seat map in one call, touching one string per row
-- and one small sorted set per row, never one key per seat: the rows' sold
-- state strings ('a'/'b' per seat) and the numbers of the seats whose hold
-- is still live. The component lays the holds over the strings.
--
-- The map's validator is createdAt.version.liveHolds: the event's version
-- (bumped by every script that changes what the map shows) and the number
-- of live holds. Holds expire with no script running, but the live ones
-- are always the latest-expiring holds of the event, so at one version
-- their number says which they are. ARGV[1...] are validators the client
-- already has ('*' for any): when one matches, the map is not read at all.
-- (The waiting-room settings are fixed when the event is created, which
-- createdAt covers.)
-- Returns {'no_event'}, {'not_modified', validator} or {'ok', validator,
-- name, createdAt, rowCount, heldCount, label..., states..., heldSeat...,
-- admitPerMinute, accessMinutes} (Spin flattens the nested lists; the last
-- two are '' without a waiting room).
local event = redis.call('HMGET', EVENT_KEY, 'name', 'rows', 'createdAt',
  'queueAdmitPerMinute', 'queueAccessMinutes')
if not event[1] then return {'no_event'} end
local now = now_ms()
local validator = event[3] .. '.' .. (redis.call('GET', VERSION_KEY) or '0') .. '.'
  .. redis.call('ZCOUNT', HOLDS_KEY, '(' .. now, '+inf')
for i = 1, #ARGV do
  if ARGV[i] == validator or ARGV[i] == '*' then return {'not_modified', validator} end
end
local labels = {}
for i, row in ipairs(cjson.decode(event[2])) do labels[i] = row[1] end
local states = redis.call('HMGET', MAP_KEY, unpack(labels))
local held = {}
for _, label in ipairs(labels) do
  for _, n in ipairs(redis.call('ZRANGEBYSCORE', held_key(label), '(' .. now, '+inf')) do
    held[#held + 1] = label .. '-' .. n
  end
end
return {'ok', validator, event[1], event[3], #labels, #held, labels, states, held,
  event[4] or '', event[5] or ''}
