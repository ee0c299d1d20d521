-- defines: unknown_seats
-- needs: MAP_KEY seat_parts
-- The seats of `seats` the event's map does not have. A row's size is the
-- length of its sold-state string in the map (one character per seat), so
-- one HMGET of the rows named answers, with no decoding of the event's rows.
local function unknown_seats(seats)
  local parts, labels = {}, {}
  for i, seat in ipairs(seats) do
    local label, n = seat_parts(seat)
    parts[i] = {label, n}
    if label then labels[#labels + 1] = label end
  end
  local sizes = {}
  if #labels > 0 then
    local states = redis.call('HMGET', MAP_KEY, unpack(labels))
    for i, label in ipairs(labels) do sizes[label] = states[i] and #states[i] end
  end
  local unknown = {}
  for i, seat in ipairs(seats) do
    local label, n = parts[i][1], parts[i][2]
    local size = label and sizes[label]
    if not size or n > size then table.insert(unknown, seat) end
  end
  return unknown
end
