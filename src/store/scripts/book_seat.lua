-- needs: EVENT_KEY TAG
-- Commits a booking for one seat whose lock the caller holds, for a request
-- without an Idempotency-Key (POST /api/book/{seatId}, after its SET NX):
-- the seed's endpoint as the seed's clients call it, the hottest path there
-- is. So this script is flat and carries no answer: with no key there is
-- none to store, and the component keeps the answer it rendered and gives
-- it on 'ok'. Each piece a script carries costs Redis on every call (a
-- `local function` is a new closure each time, about 500 instructions), and
-- each argument about 300 more: the answer arguments and the `answer`
-- piece cost this script about 20,000 instructions a booking.
--
-- The fencing check comes first: if the lock no longer holds the caller's
-- token (it expired and someone else took it), nothing is written.
-- Otherwise the lock becomes the seat's permanent booked marker and the
-- booking is stored, atomically: the same record create_booking.lua writes.
-- If the default event was given a seat map, nothing is written and the
-- answer is 'mapped': the caller, still holding the lock, runs
-- book_seat_full.lua, which checks the seat against the map and marks it.
-- ARGV[1] booking id, also the lock's token   ARGV[2] seat
-- ARGV[3] booking token hash   ARGV[4] created at (ms, the component's
-- clock, as for events: one TIME call less for the Redis every node shares)
-- Returns 'ok', {'lost_lock'} or {'mapped'}.
local id, seat = ARGV[1], ARGV[2]
local lock = 'lock:seat:' .. TAG .. ':' .. seat
if redis.call('GET', lock) ~= id then return {'lost_lock'} end
if redis.call('EXISTS', EVENT_KEY) == 1 then return {'mapped'} end
redis.call('SET', lock, 'booked:' .. id)
redis.call('HSET', 'booking:' .. TAG .. ':' .. id, 'tokenHash', ARGV[3], 'seats', seat,
  'createdAt', ARGV[4], 'status', 'booked')
redis.call('SADD', 'bookings:' .. TAG, id)
return 'ok'
