-- wrk script: hold the best 4 adjacent seats for 2 seconds. Arg: -- <event id>.
-- Short holds keep the front rows cycling, as in a drop where holds expire
-- or are released as fast as new buyers arrive.
function init(args)
  path = "/api/events/" .. args[1] .. "/holds"
end

function request()
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" },
    '{"bestAvailable":{"count":4,"adjacent":true},"ttlSeconds":2}')
end

dofile("bench/report.lua")
