-- Commits a booking for a seat whose lock the caller holds, in one step.
--
-- The fencing check comes first: if the lock no longer holds the caller's
-- token (it expired and someone else took it), nothing is written. Otherwise
-- the lock becomes the seat's permanent "booked" marker (no TTL), the booking
-- record is stored and indexed, all atomically.
--
-- KEYS[1] lock:seat:{E}:<seat>   KEYS[2] booking:{E}:<id>   KEYS[3] bookings:{E}
-- ARGV[1] lock token   ARGV[2] booking id   ARGV[3] seat id   ARGV[4] created at (unix ms)
-- Returns 1 when booked, 0 when the caller no longer owns the lock.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], 'booked:' .. ARGV[2])
redis.call('HSET', KEYS[2], 'seats', ARGV[3], 'createdAt', ARGV[4])
redis.call('SADD', KEYS[3], ARGV[2])
return 1
