-- wrk script: hold two named seats (never confirmed), optionally with a
-- waiting room's access token. Args: -- <event id> <first row number>
-- [access token]. Each thread walks its own 250 rows of 100 seats
-- (R<row>-1 …), so every hold names free seats.
dofile("bench/thread_ids.lua")

function init(args)
  path = "/api/events/" .. args[1] .. "/holds"
  row = tonumber(args[2]) + (thread_id - 1) * 250
  seat = -1
  headers = { ["Content-Type"] = "application/json" }
  if args[3] then headers["Authorization"] = "Bearer " .. args[3] end
end

function request()
  seat = seat + 2
  if seat > 99 then seat = 1; row = row + 1 end
  local body = string.format('{"seats":["R%d-%d","R%d-%d"]}', row, seat, row, seat + 1)
  return wrk.format("POST", path, headers, body)
end

dofile("bench/report.lua")
