-- pieces: event version_key lock_key hold_key map_key held_key now seat_parts unknown_seats taken_seats answer split create_hold queue_access
-- Holds named seats, all or nothing: each seat's lock becomes hold:<id>
-- with the hold's TTL (the lock is the hold), and the hold record keeps the
-- token hash and the seats for confirm and release.
-- ARGV[6] hold id   ARGV[7] token hash   ARGV[8] TTL (ms)   ARGV[9] expires at (ms)
-- ARGV[10] seats, comma-joined   ARGV[11] admitted waiting-room ticket, or ''
-- Returns {'ok', body}, {'no_event'}, {'queue_required'}, {'unknown_seats', ...},
-- {'taken', ...}, or an idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
if redis.call('EXISTS', EVENT_KEY) == 0 then return {'no_event'} end
local ticket = ARGV[11] or ''
if queue_required(ticket) then return {'queue_required'} end
local hold_id, token_hash, ttl = ARGV[6], ARGV[7], tonumber(ARGV[8])
local seats = split(ARGV[10])

local unknown = unknown_seats(seats)
if #unknown > 0 then return {'unknown_seats', unknown} end
local taken = taken_seats(seats)
if #taken > 0 then return {'taken', taken} end

create_hold(hold_id, token_hash, ttl, ARGV[9], seats)
record_access(hold_key(hold_id), ticket)
return success(seats)
