-- pieces: event version_key map_key answer
-- Creates an event with its seat map (every seat unsold), unless one with
-- that id exists.
-- ARGV[6] name   ARGV[7] rows as JSON [[label, count], ...]   ARGV[8] seat count
-- ARGV[9] created at (ms)
-- ARGV[10] waiting room's admissions per minute and ARGV[11] its access
-- minutes, or '' for an event without one
-- Returns {'ok', body}, {'exists'}, or an idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
if redis.call('EXISTS', EVENT_KEY) == 1 then return {'exists'} end
redis.call('HSET', EVENT_KEY, 'name', ARGV[6], 'rows', ARGV[7], 'seatCount', ARGV[8],
  'createdAt', ARGV[9])
if (ARGV[10] or '') ~= '' then
  redis.call('HSET', EVENT_KEY, 'queueAdmitPerMinute', ARGV[10], 'queueAccessMinutes', ARGV[11])
end
for _, row in ipairs(cjson.decode(ARGV[7])) do
  redis.call('HSET', MAP_KEY, row[1], string.rep('a', row[2]))
end
redis.call('INCR', VERSION_KEY)
-- The list of events (GET /api/events) reads this index: `events`, event
-- ids scored by creation time (keys.rs).
redis.call('ZADD', 'events', ARGV[9], string.sub(TAG, 2, -2))
return success(nil)
