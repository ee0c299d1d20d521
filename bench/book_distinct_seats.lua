-- wrk script: every request books a seat nobody asked for before.
-- Seat ids are <prefix>-<thread>-<n>; pass a prefix unique to the run: -- <prefix>
dofile("bench/thread_ids.lua")

function init(args)
  n = 0
  prefix = args[1] or "run"
end

function request()
  n = n + 1
  return wrk.format("POST", "/api/book/" .. prefix .. "-" .. thread_id .. "-" .. n)
end

dofile("bench/report.lua")
