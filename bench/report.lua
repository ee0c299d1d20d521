-- Shared end of every wrk script (loaded with dofile from the project root):
-- one machine-readable line,
-- "RESULT requests duration_us p50_us p99_us socket_errors status_errors".
-- wrk counts any status >= 400 as a status error, 409s included.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout,
    e.status))
end
