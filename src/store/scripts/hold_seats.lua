-- needs: EVENT_KEY create_hold hold_key idempotent_replay queue_required
-- needs: record_access split success taken_seats unknown_seats
-- Holds named seats, all or nothing: each seat's lock becomes hold:<id>
-- with the hold's TTL (the lock is the hold), and the hold record keeps the
-- token hash and the seats for confirm and release.
-- ARGV[1] hold id   ARGV[2] token hash   ARGV[3] TTL (ms)   ARGV[4] expires at (ms)
-- ARGV[5] seats, comma-joined   ARGV[6] admitted waiting-room ticket, or ''
-- Returns {'ok', body}, {'no_event'}, {'queue_required'}, {'unknown_seats', ...},
-- {'taken', ...}, or an idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
if redis.call('EXISTS', EVENT_KEY) == 0 then return {'no_event'} end
local ticket = ARGV[6]
if queue_required(ticket) then return {'queue_required'} end
local hold_id, token_hash, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local seats = split(ARGV[5])

local unknown = unknown_seats(seats)
if #unknown > 0 then return {'unknown_seats', unknown} end
local taken = taken_seats(seats)
if #taken > 0 then return {'taken', taken} end

create_hold(hold_id, token_hash, ttl, ARGV[4], seats)
record_access(hold_key(hold_id), ticket)
return success(seats)
