-- pieces: event version_key lock_key booking_keys map_key now timestamp seat_parts unknown_seats taken_seats answer split mark_seats create_booking queue_access
-- Books named seats directly, all or nothing: every seat must exist and be
-- free (no lock, hold or booking), then all become booked:<id> together.
-- ARGV[6] booking id   ARGV[7] booking token hash   ARGV[8] seats, comma-joined
-- ARGV[9] admitted waiting-room ticket, or ''
-- Returns {'ok', body}, {'no_event'}, {'queue_required'}, {'unknown_seats', ...},
-- {'taken', ...}, or an idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
if redis.call('EXISTS', EVENT_KEY) == 0 then return {'no_event'} end
local ticket = ARGV[9] or ''
if queue_required(ticket) then return {'queue_required'} end
local seats = split(ARGV[8])
local unknown = unknown_seats(seats)
if #unknown > 0 then return {'unknown_seats', unknown} end
local taken = taken_seats(seats)
if #taken > 0 then return {'taken', taken} end

create_booking(ARGV[6], ARGV[7], seats, '', timestamp_ms())
record_access(booking_key(ARGV[6]), ticket)
mark_seats(seats, 'b')
return success(seats)
