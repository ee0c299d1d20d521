-- defines: now_ms
-- Milliseconds on Redis's clock, the clock the lock TTLs run on.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
