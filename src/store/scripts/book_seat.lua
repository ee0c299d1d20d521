-- pieces: event answer
-- Commits a booking for one seat whose lock the caller holds
-- (POST /api/book/{seatId}, after its SET NX): the seed's endpoint, the
-- hottest path there is, so this script is flat. Each piece a script carries
-- costs Redis on every call (a `local function` is a new closure each
-- time, about 500 instructions, a key built from the tag about 650), and
-- book_mapped_seat.lua's pieces cost a booking about 20,000 instructions.
--
-- The fencing check comes first: if the lock no longer holds the caller's
-- token (it expired and someone else took it), nothing is written.
-- Otherwise the lock becomes the seat's permanent booked marker and the
-- booking is stored, atomically: the same record create_booking.lua writes.
-- If the default event was given a seat map, nothing is written and the
-- answer is 'mapped': the caller, still holding the lock, runs
-- book_mapped_seat.lua, which checks the seat against the map and marks it.
-- A request whose Idempotency-Key was already used gets the stored answer
-- (or a mismatch) and its lock is let go.
-- ARGV[6] booking id, also the lock's token   ARGV[7] seat
-- ARGV[8] booking token hash   ARGV[9] created at (ms, the component's
-- clock, as for events: one TIME call less for the Redis every node shares)
-- Returns {'ok', body}, {'lost_lock'}, {'mapped'}, or an idempotency reply.
local id, seat = ARGV[6], ARGV[7]
local lock = 'lock:seat:' .. TAG .. ':' .. seat
local replay = idempotent_replay()
if replay then
  if redis.call('GET', lock) == id then redis.call('DEL', lock) end
  return replay
end
if redis.call('GET', lock) ~= id then return {'lost_lock'} end
if redis.call('EXISTS', EVENT_KEY) == 1 then return {'mapped'} end
redis.call('SET', lock, 'booked:' .. id)
redis.call('HSET', 'booking:' .. TAG .. ':' .. id, 'tokenHash', ARGV[8], 'seats', seat,
  'createdAt', ARGV[9], 'status', 'booked')
redis.call('SADD', 'bookings:' .. TAG, id)
return success(nil)
