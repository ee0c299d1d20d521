-- Releases a hold: its seats are free at once. Only locks that are still
-- this hold's are deleted, so a seat held or sold by someone else since the
-- hold expired is never touched.
-- KEYS[1] event:{E}   ARGV[1] hold id   ARGV[2] hold token hash
-- Returns {'ok'}, {'no_event'}, {'not_found'}, {'forbidden'}, {'confirmed'}.
local EVENT_KEY = KEYS[1]
local TAG = string.match(EVENT_KEY, '^event:(%b{})$')
if redis.call('EXISTS', EVENT_KEY) == 0 then return {'no_event'} end
local hold_key = 'hold:' .. TAG .. ':' .. ARGV[1]
local hold = redis.call('HMGET', hold_key, 'tokenHash', 'seats', 'status')
if not hold[1] then return {'not_found'} end
if hold[1] ~= ARGV[2] then return {'forbidden'} end
if hold[3] == 'confirmed' then return {'confirmed'} end
for seat in string.gmatch(hold[2], '[^,]+') do
  local lock = 'lock:seat:' .. TAG .. ':' .. seat
  if redis.call('GET', lock) == 'hold:' .. ARGV[1] then redis.call('DEL', lock) end
end
redis.call('HSET', hold_key, 'status', 'released')
return {'ok'}
