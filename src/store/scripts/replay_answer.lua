-- Reads the stored answer of an idempotency key (KEYS[1], idem:{E}:<hash>)
-- for a one-seat booking whose seat was found taken: maybe by this very
-- request's first attempt. Returns fingerprint, status, location and body
-- (nil when there is none). When the fingerprint matches (ARGV[1]) it counts
-- the replay in the record: that write moves this connection's replication
-- offset past the stored answer, so the WAIT that follows a replay
-- (redis_replica_acks) vouches for the answer being on the replicas.
local stored = redis.call('HMGET', KEYS[1], 'fingerprint', 'status', 'location', 'body')
if stored[1] and stored[1] == ARGV[1] then
  redis.call('HINCRBY', KEYS[1], 'replays', 1)
end
return stored
