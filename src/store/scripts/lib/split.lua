-- defines: split
-- Splits a comma-joined list (seat ids never contain commas).
local function split(text)
  local out = {}
  for item in string.gmatch(text, '[^,]+') do table.insert(out, item) end
  return out
end
