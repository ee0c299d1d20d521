-- Holds the best `count` available seats: front rows first, and within a
-- row the seats nearest its middle. With `adjacent`, the seats are one
-- unbroken block in one row; without, the best single seats wherever they
-- are. The scan and the hold are one atomic step, so two buyers asking at
-- once can never get overlapping seats.
-- ARGV[6] hold id   ARGV[7] token hash   ARGV[8] TTL (ms)   ARGV[9] expires at (ms)
-- ARGV[10] count   ARGV[11] '1' for adjacent, '0' otherwise
-- Returns {'ok', body}, {'no_event'}, {'sold_out'}, or an idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
local rows = load_rows()
if not rows then return {'no_event'} end
local hold_id, token_hash, ttl = ARGV[6], ARGV[7], tonumber(ARGV[8])
local count, adjacent = tonumber(ARGV[10]), ARGV[11] == '1'

-- free[n] is true when seat n of the row has no lock, hold or booking.
local function free_seats(label, size)
  local free, chunk = {}, 1000
  for first = 1, size, chunk do
    local last = math.min(first + chunk - 1, size)
    local keys = {}
    for n = first, last do keys[#keys + 1] = lock_key(label .. '-' .. n) end
    local values = redis.call('MGET', unpack(keys))
    for i, value in ipairs(values) do free[first + i - 1] = (value == false) end
  end
  return free
end

-- Distance of seat (or block centre) `x` from the middle of a row of `size`.
local function off_centre(x, size) return math.abs(x - (size + 1) / 2) end

local chosen = {}
for _, row in ipairs(rows) do
  local label, size = row[1], row[2]
  if size >= (adjacent and count or 1) then
    local free = free_seats(label, size)
    if adjacent then
      local best, best_distance, run = nil, nil, 0
      for n = 1, size do
        run = free[n] and run + 1 or 0
        if run >= count then
          local first = n - count + 1
          local distance = off_centre((first + n) / 2, size)
          if not best or distance < best_distance then best, best_distance = first, distance end
        end
      end
      if best then
        for n = best, best + count - 1 do chosen[#chosen + 1] = label .. '-' .. n end
        break
      end
    else
      local candidates = {}
      for n = 1, size do if free[n] then candidates[#candidates + 1] = n end end
      table.sort(candidates, function(a, b)
        local da, db = off_centre(a, size), off_centre(b, size)
        if da ~= db then return da < db end
        return a < b
      end)
      for i = 1, math.min(count - #chosen, #candidates) do
        chosen[#chosen + 1] = label .. '-' .. candidates[i]
      end
      if #chosen == count then break end
    end
  end
end
if #chosen < count then return {'sold_out'} end

create_hold(hold_id, token_hash, ttl, ARGV[9], chosen)
return success(chosen)
