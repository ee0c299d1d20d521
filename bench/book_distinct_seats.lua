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

function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
