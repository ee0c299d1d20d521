-- pieces: event lock_key hold_key map_key held_key now load_rows seat_parts answer create_hold queue_access
-- Holds the best `count` available seats: front rows first, and within a
-- row the seats nearest its middle. With `adjacent`, the seats are one
-- unbroken block in one row; without, the best single seats wherever they
-- are. The scan and the hold are one atomic step, so two buyers asking at
-- once can never get overlapping seats.
--
-- A row is read from its sold-state string and its index of live holds,
-- not seat by seat; a row with no run of `count` unsold seats, or fewer
-- free seats than asked, is skipped without reading its holds. The seats chosen are then checked against their lock keys, the
-- authority, which also catches the few-millisecond locks of /api/book.
-- ARGV[6] hold id   ARGV[7] token hash   ARGV[8] TTL (ms)   ARGV[9] expires at (ms)
-- ARGV[10] count   ARGV[11] '1' for adjacent, '0' otherwise
-- ARGV[12] admitted waiting-room ticket, or ''
-- Returns {'ok', body}, {'no_event'}, {'queue_required'}, {'sold_out'}, or an
-- idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
local rows = load_rows()
if not rows then return {'no_event'} end
local ticket = ARGV[12] or ''
if queue_required(ticket) then return {'queue_required'} end
local hold_id, token_hash, ttl = ARGV[6], ARGV[7], tonumber(ARGV[8])
local count, adjacent = tonumber(ARGV[10]), ARGV[11] == '1'
local now = now_ms()

-- free[n]: seat n of the row is neither sold nor held (locks checked later).
local function free_seats(label, size, states)
  redis.call('ZREMRANGEBYSCORE', held_key(label), '-inf', now)
  local free = {}
  for n = 1, size do free[n] = string.byte(states, n) == 97 end -- 'a'
  for _, n in ipairs(redis.call('ZRANGE', held_key(label), 0, -1)) do
    free[tonumber(n)] = false
  end
  return free
end

-- True when seat n's lock key is free; a locked seat is marked not free.
local function lock_free(free, label, n)
  if redis.call('EXISTS', lock_key(label .. '-' .. n)) == 1 then
    free[n] = false
    return false
  end
  return true
end

-- Distance of seat (or block centre) `x` from the middle of a row of `size`.
local function off_centre(x, size) return math.abs(x - (size + 1) / 2) end

-- The best block of `count` free seats in the row: its first seat, or nil.
local function best_block(free, size)
  local best, best_distance, run = nil, nil, 0
  for n = 1, size do
    run = free[n] and run + 1 or 0
    if run >= count then
      local first = n - count + 1
      local distance = off_centre((first + n) / 2, size)
      if not best or distance < best_distance then best, best_distance = first, distance end
    end
  end
  return best
end

local chosen = {}
for _, row in ipairs(rows) do
  local label, size = row[1], row[2]
  local states = redis.call('HGET', MAP_KEY, label) or ''
  local needed = adjacent and count or 1
  -- Cheap tests first: a run of `needed` unsold seats, and enough seats
  -- neither sold nor held (unsold minus live holds), before reading the row.
  local _, unsold = string.gsub(states, 'a', '')
  if size >= needed and string.find(states, string.rep('a', needed), 1, true)
    and unsold - redis.call('ZCOUNT', held_key(label), '(' .. now, '+inf') >= needed then
    local free = free_seats(label, size, states)
    if adjacent then
      -- Re-pick until a block passes the lock check, or the row has none.
      local first = best_block(free, size)
      while first do
        local all_free = true
        for n = first, first + count - 1 do
          all_free = lock_free(free, label, n) and all_free
        end
        if all_free then break end
        first = best_block(free, size)
      end
      if first then
        for n = first, first + count - 1 do chosen[#chosen + 1] = label .. '-' .. n end
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
      for _, n in ipairs(candidates) do
        if #chosen == count then break end
        if lock_free(free, label, n) then chosen[#chosen + 1] = label .. '-' .. n end
      end
      if #chosen == count then break end
    end
  end
end
if #chosen < count then return {'sold_out'} end

create_hold(hold_id, token_hash, ttl, ARGV[9], chosen)
record_access(hold_key(hold_id), ticket)
return success(chosen)
