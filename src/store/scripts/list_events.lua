-- Lists events newest first (GET /api/events), one page at a time, with
-- each event's live counts, in one call. KEYS[1] is the index `events`
-- (event ids scored by createdAt, ms). The listed events' own keys (named
-- as keys.rs lays them out) are read outside KEYS: fine on one primary, not
-- on Redis Cluster (see keys.rs).
-- ARGV[1] page size   ARGV[2] the cursor's createdAt ('' for the first page)
-- ARGV[3] the cursor's event id: the last event of the previous page
-- Returns {nextCreatedAt, nextId, then per event: id, name, createdAt,
-- available, held, booked}; the next cursor is {'', ''} on the last page.
local INDEX, limit = KEYS[1], tonumber(ARGV[1])

-- limit + 1 ids from the cursor on: one more than the page says whether
-- another page follows. Events of one millisecond are listed in reverse id
-- order (as the index keeps them), so the rest of the cursor's millisecond
-- is what follows the cursor's id in that order.
local ids = {}
if ARGV[2] == '' then
  ids = redis.call('ZREVRANGEBYSCORE', INDEX, '+inf', '-inf', 'LIMIT', 0, limit + 1)
else
  local seen = false
  for _, id in ipairs(redis.call('ZREVRANGEBYSCORE', INDEX, ARGV[2], ARGV[2])) do
    if seen and #ids <= limit then ids[#ids + 1] = id end
    if id == ARGV[3] then seen = true end
  end
  if #ids <= limit then
    local older = redis.call('ZREVRANGEBYSCORE', INDEX, '(' .. ARGV[2], '-inf',
      'LIMIT', 0, limit + 1 - #ids)
    for _, id in ipairs(older) do ids[#ids + 1] = id end
  end
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- An event's counts, as its seat map shows them: sold seats from the rows'
-- state strings, held seats from the live holds on unsold seats.
local function counts(tag, rows_json)
  local labels = {}
  for i, row in ipairs(cjson.decode(rows_json)) do labels[i] = row[1] end
  local states = redis.call('HMGET', 'map:' .. tag, unpack(labels))
  local unsold, sold, held = 0, 0, 0
  for i, label in ipairs(labels) do
    local row = states[i] or ''
    local _, a = string.gsub(row, 'a', '')
    unsold, sold = unsold + a, sold + #row - a
    for _, n in ipairs(redis.call('ZRANGEBYSCORE', 'held:' .. tag .. ':' .. label,
        '(' .. now, '+inf')) do
      if string.byte(row, tonumber(n)) == 97 then held = held + 1 end -- 'a'
    end
  end
  return unsold - held, held, sold
end

local out = {'', ''}
local listed = math.min(#ids, limit)
for i = 1, listed do
  local tag = '{' .. ids[i] .. '}'
  local event = redis.call('HMGET', 'event:' .. tag, 'name', 'rows', 'createdAt')
  if event[1] then
    local available, held, booked = counts(tag, event[2])
    for _, v in ipairs({ids[i], event[1], event[3], available, held, booked}) do
      out[#out + 1] = v
    end
  end
end
if #ids > limit then
  out[1] = redis.call('ZSCORE', INDEX, ids[listed])
  out[2] = ids[listed]
end
return out
