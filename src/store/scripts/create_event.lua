-- needs: EVENT_KEY MAP_KEY TAG VERSION_KEY idempotent_replay success
-- Creates an event with its seat map (every seat unsold), unless one with
-- that id exists.
-- ARGV[1] name   ARGV[2] rows as JSON [[label, count], ...]   ARGV[3] seat count
-- ARGV[4] created at (ms)
-- ARGV[5] waiting room's admissions per minute and ARGV[6] its access
-- minutes, or '' for an event without one
-- Returns {'ok', body}, {'exists'}, or an idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
if redis.call('EXISTS', EVENT_KEY) == 1 then return {'exists'} end
redis.call('HSET', EVENT_KEY, 'name', ARGV[1], 'rows', ARGV[2], 'seatCount', ARGV[3],
  'createdAt', ARGV[4])
if ARGV[5] ~= '' then
  redis.call('HSET', EVENT_KEY, 'queueAdmitPerMinute', ARGV[5], 'queueAccessMinutes', ARGV[6])
end
for _, row in ipairs(cjson.decode(ARGV[2])) do
  redis.call('HSET', MAP_KEY, row[1], string.rep('a', row[2]))
end
redis.call('INCR', VERSION_KEY)
-- The list of events (GET /api/events) reads this index: `events`, event
-- ids scored by creation time (keys.rs).
redis.call('ZADD', 'events', ARGV[4], string.sub(TAG, 2, -2))
return success(nil)
