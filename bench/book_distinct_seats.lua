-- wrk script: every request books a seat nobody asked for before.
-- Seat ids are <prefix>-<thread>-<n>; pass a prefix unique to the run: -- <prefix>
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  n = 0
  prefix = args[1] or "run"
end

function request()
  n = n + 1
  return wrk.format("POST", "/api/book/" .. prefix .. "-" .. thread_id .. "-" .. n)
end

dofile("bench/report.lua")
