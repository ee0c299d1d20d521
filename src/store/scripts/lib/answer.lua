-- defines: ANSWER_ARGV IDEM_KEY_HASH FINGERPRINT IDEM_TTL_SECONDS idempotent_replay success
-- needs: TAG
-- A script that stores its answer takes the five answer arguments last,
-- after its own (ARGV[ANSWER_ARGV] on): the idempotency key hash ('' for
-- none), the request fingerprint, and the status, Location and body of the
-- success answer as the component rendered it. Where the component did not
-- know the seats yet it wrote "%SEATS%", which the script fills in. With a
-- key, the answer is stored atomically with the change, so a retry replays
-- it byte for byte.
local ANSWER_ARGV = #ARGV - 4
local IDEM_KEY_HASH, FINGERPRINT = ARGV[ANSWER_ARGV], ARGV[ANSWER_ARGV + 1]
local IDEM_TTL_SECONDS = 86400

-- The stored answer for this idempotency key: a reply to return at once
-- (a replay, or a mismatch when the key came with another request), or nil.
-- A replay counts itself in the record: that write puts this connection's
-- replication offset past the stored answer, so the WAIT the component
-- sends next (redis_replica_acks) vouches for the answer being replicated.
local function idempotent_replay()
  if IDEM_KEY_HASH == '' then return nil end
  local key = 'idem:' .. TAG .. ':' .. IDEM_KEY_HASH
  local stored = redis.call('HMGET', key, 'fingerprint', 'status', 'location', 'body')
  if not stored[1] then return nil end
  if stored[1] ~= FINGERPRINT then return {'idempotency_mismatch'} end
  redis.call('HINCRBY', key, 'replays', 1)
  return {'replay', stored[2], stored[3], stored[4]}
end

-- The success answer: {'ok', body} with `seats` filled in, stored under the
-- idempotency key (for 24 hours) when there is one.
local function success(seats)
  local body = ARGV[ANSWER_ARGV + 4]
  if seats then
    local from, to = string.find(body, '"%SEATS%"', 1, true)
    if from then
      body = string.sub(body, 1, from - 1) .. cjson.encode(seats) .. string.sub(body, to + 1)
    end
  end
  if IDEM_KEY_HASH ~= '' then
    local key = 'idem:' .. TAG .. ':' .. IDEM_KEY_HASH
    redis.call('HSET', key, 'fingerprint', FINGERPRINT, 'status', ARGV[ANSWER_ARGV + 2],
      'location', ARGV[ANSWER_ARGV + 3], 'body', body)
    redis.call('EXPIRE', key, IDEM_TTL_SECONDS)
  end
  return {'ok', body}
end
