-- needs: MAP_KEY best_block create_hold held_key hold_key idempotent_replay
-- needs: load_rows lock_key now_ms queue_required record_access success
-- Holds the best `count` available seats: front rows first, packed so the
-- house can sell out. With `adjacent`, the seats are one unbroken block in
-- one row, placed by best_block (near the row's middle, flush with taken
-- seats or a row end, never stranding a single seat when it can help it);
-- without, the best single seats wherever they are. The scan and the hold
-- are one atomic step, so two buyers asking at once can never get
-- overlapping seats.
--
-- A block that would strand a single seat is taken only when no row has a
-- block that strands none: the front row that can take the block is kept
-- as the fallback while later rows are looked at. An orphan seat is one a
-- group can never use, so the house gives up a row of quality rather than
-- a seat.
--
-- A row is read from its sold-state string and its index of live holds,
-- not seat by seat; a row with no run of `count` unsold seats, or fewer
-- free seats than asked, is skipped without reading its holds. The seats
-- chosen are then checked against their lock keys, the authority, which
-- also catches the few-millisecond locks of /api/book. Nothing but the
-- lazy cleanup of expired hold index entries is written before the choice
-- is final.
-- ARGV[1] hold id   ARGV[2] token hash   ARGV[3] TTL (ms)   ARGV[4] expires at (ms)
-- ARGV[5] count   ARGV[6] '1' for adjacent, '0' otherwise
-- ARGV[7] admitted waiting-room ticket, or ''
-- Returns {'ok', body}, {'no_event'}, {'queue_required'}, {'sold_out'}, or an
-- idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
local rows = load_rows()
if not rows then return {'no_event'} end
local ticket = ARGV[7]
if queue_required(ticket) then return {'queue_required'} end
local hold_id, token_hash, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local count, adjacent = tonumber(ARGV[5]), ARGV[6] == '1'
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

-- The row's best block that passes the lock check: its first seat and the
-- orphans it leaves, or nil. Re-picks when a lock turns up.
local function locked_in_block(free, label, size)
  local first, orphans = best_block(free, size, count)
  while first do
    local all_free = true
    for n = first, first + count - 1 do
      all_free = lock_free(free, label, n) and all_free
    end
    if all_free then return first, orphans end
    first, orphans = best_block(free, size, count)
  end
  return nil
end

-- Distance of seat `n` from the middle of a row of `size`.
local function off_centre(n, size) return math.abs(n - (size + 1) / 2) end

-- Whether seat m is free with no free seat beside it on the side away
-- from seat `from` (so taking `from` would leave m alone). Beyond the
-- row's ends is not free.
local function alone_beside(free, m, from)
  return free[m] and not free[2 * m - from] or false
end

-- Adds the row's best single seats to `chosen` until it has `count`: by
-- distance from the middle, first those that leave no neighbour alone,
-- then the rest; a neighbour left alone by those goes with them while
-- seats are still wanted.
local function add_singles(chosen, free, label, size)
  local candidates = {}
  for n = 1, size do if free[n] then candidates[#candidates + 1] = n end end
  table.sort(candidates, function(a, b)
    local da, db = off_centre(a, size), off_centre(b, size)
    if da ~= db then return da < db end
    return a < b
  end)
  local function take(n)
    chosen[#chosen + 1] = label .. '-' .. n
    free[n] = false
  end
  for pass = 1, 2 do
    for _, n in ipairs(candidates) do
      if #chosen == count then return end
      local strands = alone_beside(free, n - 1, n) or alone_beside(free, n + 1, n)
      if free[n] and (pass == 2 or not strands) and lock_free(free, label, n) then
        take(n)
        for _, m in ipairs({n - 1, n + 1}) do
          if #chosen < count and alone_beside(free, m, n) and lock_free(free, label, m) then
            take(m)
          end
        end
      end
    end
  end
end

-- The seat ids of the block of `count` seats from `first` in row `label`.
local function block(label, first)
  local seats = {}
  for n = first, first + count - 1 do seats[#seats + 1] = label .. '-' .. n end
  return seats
end

local chosen, fallback = {}, nil
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
      -- Once there is a fallback, a row whose best block strands a seat
      -- too is passed over without checking its locks.
      local first, orphans = best_block(free, size, count)
      if first and (orphans == 0 or not fallback) then
        first, orphans = locked_in_block(free, label, size)
      end
      if first and orphans == 0 then
        chosen = block(label, first)
        break
      end
      if first and not fallback then fallback = block(label, first) end
    else
      add_singles(chosen, free, label, size)
      if #chosen == count then break end
    end
  end
end
if adjacent and #chosen == 0 and fallback then chosen = fallback end
if #chosen < count then return {'sold_out'} end

create_hold(hold_id, token_hash, ttl, ARGV[4], chosen)
record_access(hold_key(hold_id), ticket)
return success(chosen)
