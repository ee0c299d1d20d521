-- needs: EVENT_KEY now_ms ticket_key
-- Reads a waiting-room ticket for its holder: nothing is written, so a poll
-- is one cheap call. The component decides from these numbers whether the
-- turn has come (Redis's clock, the clock the turns were set on).
-- ARGV[1] ticket id   ARGV[2] ticket token hash
-- Returns {'ok', position, turnAt, now, admitPerMinute, accessMinutes},
-- {'no_event'}, {'no_waiting_room'}, {'not_found'} or {'forbidden'}.
local room = redis.call('HMGET', EVENT_KEY, 'queueAdmitPerMinute', 'queueAccessMinutes')
if not room[1] then
  if redis.call('EXISTS', EVENT_KEY) == 0 then return {'no_event'} end
  return {'no_waiting_room'}
end
local ticket = redis.call('HMGET', ticket_key(ARGV[1]), 'tokenHash', 'position', 'turnAt')
if not ticket[1] then return {'not_found'} end
if ticket[1] ~= ARGV[2] then return {'forbidden'} end
return {'ok', ticket[2], ticket[3], now_ms(), room[1], room[2]}
