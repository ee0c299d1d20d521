-- wrk script: every connection books seat 1 (the seed's contended drop).
wrk.method = "POST"
wrk.path = "/api/book/1"

function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
