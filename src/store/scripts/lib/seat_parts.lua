-- defines: seat_parts
-- Row label and number of a seat id of a map: 'A-12' -> 'A', 12. Numbers
-- start at 1 and have no leading zeros (so no two ids name one seat).
local function seat_parts(seat)
  local label, digits = string.match(seat, '^(.+)%-([1-9]%d*)$')
  return label, tonumber(digits)
end
