-- wrk script: join an event's waiting room (one new ticket per request).
-- Arg: -- <event id>.
function init(args)
  path = "/api/events/" .. args[1] .. "/queue"
end

function request()
  return wrk.format("POST", path)
end

dofile("bench/report.lua")
