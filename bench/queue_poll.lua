-- wrk script: poll one waiting-room ticket with its token, as a waiting
-- buyer's page does. Args: -- <event id> <ticket id> <ticket token>.
function init(args)
  path = "/api/events/" .. args[1] .. "/queue/" .. args[2]
  headers = { ["Authorization"] = "Bearer " .. args[3] }
end

function request()
  return wrk.format("GET", path, headers)
end

dofile("bench/report.lua")
