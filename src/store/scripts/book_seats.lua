-- Books named seats directly, all or nothing: every seat must exist and be
-- free (no lock, hold or booking), then all become booked:<id> together.
-- ARGV[6] booking id   ARGV[7] booking token hash   ARGV[8] seats, comma-joined
-- Returns {'ok', body}, {'no_event'}, {'unknown_seats', ...}, {'taken', ...},
-- or an idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
local rows = load_rows()
if not rows then return {'no_event'} end
local seats = split(ARGV[8])
local unknown = unknown_seats(rows, seats)
if #unknown > 0 then return {'unknown_seats', unknown} end
local taken = taken_seats(seats)
if #taken > 0 then return {'taken', taken} end

create_booking(ARGV[6], ARGV[7], seats, '')
return success(seats)
