-- defines: queue_required record_access
-- needs: EVENT_KEY now_ms
-- Waiting rooms: an event created with one (its record has
-- queueAdmitPerMinute) takes holds and direct bookings only from buyers
-- whose turn has come. The component checks their signed access token
-- without Redis and passes the ticket id it admits, or '' when none came or
-- it did not verify: '' is refused on such an event and changes nothing on
-- any other.
local function queue_required(ticket)
  return ticket == '' and redis.call('HEXISTS', EVENT_KEY, 'queueAdmitPerMinute') == 1
end

-- Notes on a hold or booking record which ticket's access made it, and when
-- (Redis clock), so a check can hold it against the ticket's turn.
local function record_access(key, ticket)
  if ticket ~= '' then redis.call('HSET', key, 'ticketId', ticket, 'accessAt', now_ms()) end
end
