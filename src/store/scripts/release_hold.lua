-- needs: EVENT_KEY HOLDS_KEY free_locks_holding hold_key split unindex_holds
-- Releases a hold: its seats are free at once. Only locks that are still
-- this hold's are deleted, so a seat held or sold by someone else since the
-- hold expired is never touched.
-- ARGV[1] hold id   ARGV[2] hold token hash
-- Returns {'ok'}, {'no_event'}, {'not_found'}, {'forbidden'}, {'confirmed'}.
if redis.call('EXISTS', EVENT_KEY) == 0 then return {'no_event'} end
local hold_id = ARGV[1]
local hold = redis.call('HMGET', hold_key(hold_id), 'tokenHash', 'seats', 'status')
if not hold[1] then return {'not_found'} end
if hold[1] ~= ARGV[2] then return {'forbidden'} end
if hold[3] == 'confirmed' then return {'confirmed'} end
unindex_holds(free_locks_holding(split(hold[2]), 'hold:' .. hold_id))
redis.call('ZREM', HOLDS_KEY, hold_id)
redis.call('HSET', hold_key(hold_id), 'status', 'released')
return {'ok'}
