-- Reads an event's whole seat map in one call: per row, one character per
-- seat ('a' available, 'h' held or locked, 'b' booked), plus the counts.
-- KEYS[1] event:{E}
-- Returns {'no_event'} or {'ok', name, createdAt, available, held, booked,
-- {label1, states1, label2, states2, ...}} (Spin flattens the nesting).
local EVENT_KEY = KEYS[1]
local TAG = string.match(EVENT_KEY, '^event:(%b{})$')
local event = redis.call('HMGET', EVENT_KEY, 'name', 'rows', 'createdAt')
if not event[1] then return {'no_event'} end
local rows = cjson.decode(event[2])
local prefix = 'lock:seat:' .. TAG .. ':'
local counts = {a = 0, h = 0, b = 0}
local out = {}
for _, row in ipairs(rows) do
  local label, size = row[1], row[2]
  local states = {}
  for first = 1, size, 1000 do
    local last = math.min(first + 999, size)
    local keys = {}
    for n = first, last do keys[#keys + 1] = prefix .. label .. '-' .. n end
    for _, value in ipairs(redis.call('MGET', unpack(keys))) do
      local state
      if value == false then state = 'a'
      elseif string.sub(value, 1, 7) == 'booked:' then state = 'b'
      else state = 'h' end
      counts[state] = counts[state] + 1
      states[#states + 1] = state
    end
  end
  out[#out + 1] = label
  out[#out + 1] = table.concat(states)
end
return {'ok', event[1], event[3], counts.a, counts.h, counts.b, out}
