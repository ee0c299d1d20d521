-- Shared prelude of the event scripts, prepended to each at build time.
--
-- KEYS[1] is always the event's record, event:{E}. The other keys a script
-- touches (seat locks, holds, bookings, idempotency records) are derived
-- from its hash tag {E}, so every key of one call lives in the same
-- cluster slot as KEYS[1].
--
-- ARGV[1..5] are always the answer arguments (empty for scripts that answer
-- nothing to store): the idempotency key hash ('' for none), the request
-- fingerprint, and the status, Location and body of the success answer as
-- the component rendered it. Where the component did
-- not know the seats yet it wrote "%SEATS%", which the script fills in. With
-- a key, the answer is stored atomically with the change, so a retry
-- replays it byte for byte.

local EVENT_KEY = KEYS[1]
local TAG = string.match(EVENT_KEY, '^event:(%b{})$')
local IDEM_KEY_HASH, FINGERPRINT = ARGV[1], ARGV[2]
local IDEM_TTL_SECONDS = 86400

local function lock_key(seat) return 'lock:seat:' .. TAG .. ':' .. seat end
local function hold_key(id) return 'hold:' .. TAG .. ':' .. id end
local function booking_key(id) return 'booking:' .. TAG .. ':' .. id end
local BOOKINGS_KEY = 'bookings:' .. TAG
-- The seat map's sold state: per row label, one character per seat,
-- 'a' (not sold) or 'b' (sold). Holds are indexed apart, because they
-- expire by themselves: held:{E}:<row> is a sorted set of seat numbers
-- scored by their hold's expiry (ms, Redis clock).
local MAP_KEY = 'map:' .. TAG
local function held_key(label) return 'held:' .. TAG .. ':' .. label end

-- Milliseconds on Redis's clock, the clock the lock TTLs run on.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The event's rows as a list of {label, count}, or nil if there is no event.
local function load_rows()
  local json = redis.call('HGET', EVENT_KEY, 'rows')
  if not json then return nil end
  return cjson.decode(json)
end

-- Row label and number of a seat id of a map: 'A-12' -> 'A', 12. Numbers
-- start at 1 and have no leading zeros (so no two ids name one seat).
local function seat_parts(seat)
  local label, digits = string.match(seat, '^(.+)%-([1-9]%d*)$')
  return label, tonumber(digits)
end

-- Whether the event's map has `seat`.
local function seat_exists(rows, seat)
  local label, n = seat_parts(seat)
  if not label then return false end
  for _, row in ipairs(rows) do
    if row[1] == label then return n >= 1 and n <= row[2] end
  end
  return false
end

-- The seats of `seats` the event's map does not have.
local function unknown_seats(rows, seats)
  local unknown = {}
  for _, seat in ipairs(seats) do
    if not seat_exists(rows, seat) then table.insert(unknown, seat) end
  end
  return unknown
end

-- The seats of `seats` that are locked, held or sold.
local function taken_seats(seats)
  local taken = {}
  for _, seat in ipairs(seats) do
    if redis.call('EXISTS', lock_key(seat)) == 1 then table.insert(taken, seat) end
  end
  return taken
end

-- The stored answer for this idempotency key: a reply to return at once
-- (a replay, or a mismatch when the key came with another request), or nil.
-- A replay counts itself in the record: that write puts this connection's
-- replication offset past the stored answer, so the WAIT the component
-- sends next (redis_replica_acks) vouches for the answer being replicated.
local function idempotent_replay()
  if IDEM_KEY_HASH == '' then return nil end
  local key = 'idem:' .. TAG .. ':' .. IDEM_KEY_HASH
  local stored = redis.call('HMGET', key, 'fingerprint', 'status', 'location', 'body')
  if not stored[1] then return nil end
  if stored[1] ~= FINGERPRINT then return {'idempotency_mismatch'} end
  redis.call('HINCRBY', key, 'replays', 1)
  return {'replay', stored[2], stored[3], stored[4]}
end

-- The success answer: {'ok', body} with `seats` filled in, stored under the
-- idempotency key (for 24 hours) when there is one.
local function success(seats)
  local body = ARGV[5]
  local from, to = string.find(body, '"%SEATS%"', 1, true)
  if from and seats then
    body = string.sub(body, 1, from - 1) .. cjson.encode(seats) .. string.sub(body, to + 1)
  end
  if IDEM_KEY_HASH ~= '' then
    local key = 'idem:' .. TAG .. ':' .. IDEM_KEY_HASH
    redis.call('HSET', key, 'fingerprint', FINGERPRINT, 'status', ARGV[3],
      'location', ARGV[4], 'body', body)
    redis.call('EXPIRE', key, IDEM_TTL_SECONDS)
  end
  return {'ok', body}
end

-- Splits a comma-joined list (seat ids never contain commas).
local function split(text)
  local out = {}
  for item in string.gmatch(text, '[^,]+') do table.insert(out, item) end
  return out
end

-- Writes `state` ('a' or 'b') into the map's row strings for `seats`.
-- Events without a map (the default event of /api/book) have none.
local function mark_seats(seats, state)
  local by_row = {}
  for _, seat in ipairs(seats) do
    local label, n = seat_parts(seat)
    if label then
      by_row[label] = by_row[label] or {}
      table.insert(by_row[label], n)
    end
  end
  for label, numbers in pairs(by_row) do
    local row = redis.call('HGET', MAP_KEY, label)
    if row then
      for _, n in ipairs(numbers) do
        row = string.sub(row, 1, n - 1) .. state .. string.sub(row, n + 1)
      end
      redis.call('HSET', MAP_KEY, label, row)
    end
  end
end

-- Deletes the locks of `seats` that still hold `value` (this hold's or this
-- booking's marker) and returns those seats; a seat someone else has taken
-- since is never touched.
local function free_locks_holding(seats, value)
  local freed = {}
  for _, seat in ipairs(seats) do
    if redis.call('GET', lock_key(seat)) == value then
      redis.call('DEL', lock_key(seat))
      table.insert(freed, seat)
    end
  end
  return freed
end

-- Adds seats to the index of live holds (score: expiry), or removes them.
local function index_holds(seats, expires_at)
  for _, seat in ipairs(seats) do
    local label, n = seat_parts(seat)
    if label then redis.call('ZADD', held_key(label), expires_at, n) end
  end
end
local function unindex_holds(seats)
  for _, seat in ipairs(seats) do
    local label, n = seat_parts(seat)
    if label then redis.call('ZREM', held_key(label), n) end
  end
end

-- Locks `seats` as hold `hold_id` for `ttl` ms and writes the hold record,
-- which outlives the hold by a day so a late confirm learns it expired.
local function create_hold(hold_id, token_hash, ttl, expires_at, seats)
  for _, seat in ipairs(seats) do
    redis.call('SET', lock_key(seat), 'hold:' .. hold_id, 'PX', ttl)
  end
  index_holds(seats, now_ms() + ttl)
  redis.call('HSET', hold_key(hold_id), 'tokenHash', token_hash,
    'seats', table.concat(seats, ','), 'expiresAt', expires_at, 'status', 'held')
  redis.call('PEXPIRE', hold_key(hold_id), ttl + IDEM_TTL_SECONDS * 1000)
end

-- Sells `seats` as booking `booking_id`: each lock becomes the permanent
-- booked:<id> marker, and the booking record and index are written.
local function create_booking(booking_id, token_hash, seats, hold_id)
  for _, seat in ipairs(seats) do
    redis.call('SET', lock_key(seat), 'booked:' .. booking_id)
  end
  redis.call('HSET', booking_key(booking_id), 'tokenHash', token_hash,
    'seats', table.concat(seats, ','), 'createdAt', now_ms(), 'status', 'booked',
    'holdId', hold_id)
  redis.call('SADD', BOOKINGS_KEY, booking_id)
  mark_seats(seats, 'b')
end
