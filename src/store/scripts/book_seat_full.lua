-- needs: EVENT_KEY create_booking idempotent_replay lock_key mark_seats
-- needs: success unknown_seats
-- Commits a booking for one seat whose lock the caller holds
-- (POST /api/book/{seatId}, after its SET NX), in the cases book_seat.lua
-- leaves out: a request with an Idempotency-Key, whose answer is stored
-- with the booking, and the default event once it has a seat map (after
-- book_seat.lua answered 'mapped', with the lock still held).
--
-- The fencing check comes first: if the lock no longer holds the caller's
-- token (it expired and someone else took it), nothing is written.
-- Otherwise, when the event has a map the seat must be on it; the lock
-- becomes the seat's permanent booked marker, the booking is stored and a
-- map marks the seat sold, atomically. A request whose Idempotency-Key was
-- already used gets the stored answer (or a mismatch) and its lock is let
-- go. The default event has a record, and so a map, only once an admin
-- created it (create_event.lua writes both; events are never deleted).
-- ARGV[1] booking id, also the lock's token   ARGV[2] seat
-- ARGV[3] booking token hash   ARGV[4] created at (ms), as for book_seat.lua
-- Returns {'ok', body}, {'lost_lock'}, {'unknown_seats', seat}, or an
-- idempotency reply.
local lock = lock_key(ARGV[2])
local replay = idempotent_replay()
if replay then
  if redis.call('GET', lock) == ARGV[1] then redis.call('DEL', lock) end
  return replay
end
if redis.call('GET', lock) ~= ARGV[1] then return {'lost_lock'} end
local mapped = redis.call('EXISTS', EVENT_KEY) == 1
if mapped and #unknown_seats({ARGV[2]}) > 0 then
  redis.call('DEL', lock)
  return {'unknown_seats', {ARGV[2]}}
end
create_booking(ARGV[1], ARGV[3], {ARGV[2]}, '', ARGV[4])
if mapped then mark_seats({ARGV[2]}, 'b') end
return success(nil)
