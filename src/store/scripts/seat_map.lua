-- pieces: event map_key held_key now
-- Reads an event's whole seat map in one call, touching one string per row
-- and one small sorted set per row, never one key per seat: the rows' sold
-- state strings ('a'/'b' per seat) and the numbers of the seats whose hold
-- is still live. The component lays the holds over the strings.
-- Returns {'no_event'} or {'ok', name, createdAt, rowCount, heldCount,
-- label..., states..., heldSeat..., admitPerMinute, accessMinutes} (Spin
-- flattens the nested lists; the last two are '' without a waiting room).
local event = redis.call('HMGET', EVENT_KEY, 'name', 'rows', 'createdAt',
  'queueAdmitPerMinute', 'queueAccessMinutes')
if not event[1] then return {'no_event'} end
local labels = {}
for i, row in ipairs(cjson.decode(event[2])) do labels[i] = row[1] end
local states = redis.call('HMGET', MAP_KEY, unpack(labels))
local now = now_ms()
local held = {}
for _, label in ipairs(labels) do
  for _, n in ipairs(redis.call('ZRANGEBYSCORE', held_key(label), '(' .. now, '+inf')) do
    held[#held + 1] = label .. '-' .. n
  end
end
return {'ok', event[1], event[3], #labels, #held, labels, states, held, event[4] or '',
  event[5] or ''}
