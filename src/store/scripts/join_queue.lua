-- needs: EVENT_KEY TAG idempotent_replay now_ms success ticket_key
-- Joins an event's waiting room: the next arrival number, and a turn fixed
-- now, so admission needs no background job. Turns are spaced 60000 /
-- admitPerMinute ms apart, counted from the first arrival of the current
-- rush: the k-th ticket since that arrival (k from 0) has its turn at
-- base + floor(k * 60000 / rate). When the queue has drained (the next turn
-- would be in the past) a new rush starts at this arrival, so a crowd
-- arriving after a quiet spell is admitted at the rate too, never at once.
-- Turns therefore rise with arrival order, and any minute holds at most
-- admitPerMinute of them.
-- A ticket's record expires a day after its access window closes: by then
-- a poll could only answer access_expired, and an onsale's crowd must not
-- stay in Redis for ever.
-- ARGV[1] ticket id   ARGV[2] ticket token hash
-- Returns {'ok', body} (the answer's placeholder filled with the position),
-- {'no_event'}, {'no_waiting_room'}, or an idempotency reply.
local replay = idempotent_replay()
if replay then return replay end
local room = redis.call('HMGET', EVENT_KEY, 'queueAdmitPerMinute', 'queueAccessMinutes')
local rate, access_minutes = tonumber(room[1]), tonumber(room[2]) or 0
if not rate then
  if redis.call('EXISTS', EVENT_KEY) == 0 then return {'no_event'} end
  return {'no_waiting_room'}
end
local QUEUE_KEY = 'queue:' .. TAG
-- Millisecond times as integer text, whatever Redis's number formatting.
local function whole(n) return string.format('%.0f', n) end
local queue = redis.call('HMGET', QUEUE_KEY, 'arrivals', 'turnBase', 'sinceBase')
local now = now_ms()
local position = (tonumber(queue[1]) or 0) + 1
local base, since = tonumber(queue[2]) or now, tonumber(queue[3]) or 0
local turn = base + math.floor(since * 60000 / rate)
if turn < now then base, since, turn = now, 0, now end
redis.call('HSET', QUEUE_KEY, 'arrivals', position, 'turnBase', whole(base),
  'sinceBase', since + 1)
redis.call('HSET', ticket_key(ARGV[1]), 'tokenHash', ARGV[2], 'position', position,
  'joinedAt', whole(now), 'turnAt', whole(turn))
redis.call('PEXPIRE', ticket_key(ARGV[1]), whole(turn - now + access_minutes * 60000 + 86400000))
return success(position)
