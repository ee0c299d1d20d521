-- defines: load_rows
-- needs: EVENT_KEY
-- The event's rows as a list of {label, count}, or nil if there is no event.
local function load_rows()
  local json = redis.call('HGET', EVENT_KEY, 'rows')
  if not json then return nil end
  return cjson.decode(json)
end
