-- wrk script: hold two named seats, then confirm the hold with its token.
-- Args: -- <event id> <first row number>. Each thread walks its own 250 rows
-- of 100 seats (R<row>-1 …), so every hold names free seats.
dofile("bench/thread_ids.lua")

function init(args)
  event = args[1]
  row = tonumber(args[2]) + (thread_id - 1) * 250
  seat = -1
  pending = {}
end

function request()
  local next_confirm = table.remove(pending)
  if next_confirm then
    return wrk.format("POST", "/api/events/" .. event .. "/holds/" .. next_confirm.id .. "/confirm",
      { ["Authorization"] = "Bearer " .. next_confirm.token }, "")
  end
  seat = seat + 2
  if seat > 99 then seat = 1; row = row + 1 end
  local body = string.format('{"seats":["R%d-%d","R%d-%d"]}', row, seat, row, seat + 1)
  return wrk.format("POST", "/api/events/" .. event .. "/holds",
    { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"holdId":"([%x%-]+)"')
    local token = string.match(body, '"holdToken":"(%x+)"')
    if id and token then table.insert(pending, { id = id, token = token }) end
  end
end

dofile("bench/report.lua")
