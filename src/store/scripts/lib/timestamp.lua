-- defines: timestamp_ms
-- Milliseconds on Redis's clock as decimal text, for the times a record
-- keeps (createdAt, cancelledAt). Made from TIME's two strings rather than
-- with arithmetic: a Lua number handed to redis.call is turned into text by
-- printf's floating-point code, and TIME's strings by strtod, which cost a
-- booking more instructions than its HSET.
local function timestamp_ms()
  local t = redis.call('TIME')
  return t[1] .. string.sub('00000' .. t[2], -6, -4)
end
