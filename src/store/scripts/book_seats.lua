-- needs: EVENT_KEY booking_key create_booking idempotent_replay mark_seats
-- needs: queue_required record_access split success taken_seats timestamp_ms
-- needs: unknown_seats
-- Books named seats directly, all or nothing: every seat must exist and be
-- free (no lock, hold or booking), then all become booked:<id> together.
-- ARGV[1] booking id   ARGV[2] booking token hash   ARGV[3] seats, comma-joined
-- ARGV[4] admitted waiting-room ticket, or ''
-- Returns {'ok', body}, {'no_event'}, {'queue_required'}, {'unknown_seats', ...},
-- {'taken', ...}, or an idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
if redis.call('EXISTS', EVENT_KEY) == 0 then return {'no_event'} end
local ticket = ARGV[4]
if queue_required(ticket) then return {'queue_required'} end
local seats = split(ARGV[3])
local unknown = unknown_seats(seats)
if #unknown > 0 then return {'unknown_seats', unknown} end
local taken = taken_seats(seats)
if #taken > 0 then return {'taken', taken} end

create_booking(ARGV[1], ARGV[2], seats, '', timestamp_ms())
record_access(booking_key(ARGV[1]), ticket)
mark_seats(seats, 'b')
return success(seats)
