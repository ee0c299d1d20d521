-- needs: EVENT_KEY HOLDS_KEY create_booking hold_key idempotent_replay
-- needs: lock_key mark_seats split success timestamp_ms unindex_holds
-- Confirms a hold into a booking. Fencing first: the token must match, and
-- every seat's lock must still be this hold's (a hold that expired, even if
-- its seats were taken by someone else since, cannot write).
-- ARGV[1] hold id   ARGV[2] hold token hash   ARGV[3] booking id
-- ARGV[4] booking token hash
-- Returns {'ok', body}, {'no_event'}, {'not_found'}, {'forbidden'},
-- {'expired'}, {'confirmed'}, {'released'}, or an idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
if redis.call('EXISTS', EVENT_KEY) == 0 then return {'no_event'} end
local hold_id = ARGV[1]
local hold = redis.call('HMGET', hold_key(hold_id), 'tokenHash', 'seats', 'status')
if not hold[1] then return {'not_found'} end
if hold[1] ~= ARGV[2] then return {'forbidden'} end
if hold[3] ~= 'held' then return {hold[3]} end
local seats = split(hold[2])
for _, seat in ipairs(seats) do
  if redis.call('GET', lock_key(seat)) ~= 'hold:' .. hold_id then return {'expired'} end
end

create_booking(ARGV[3], ARGV[4], seats, hold_id, timestamp_ms())
mark_seats(seats, 'b')
unindex_holds(seats)
redis.call('ZREM', HOLDS_KEY, hold_id)
redis.call('HSET', hold_key(hold_id), 'status', 'confirmed', 'bookingId', ARGV[3])
return success(seats)
