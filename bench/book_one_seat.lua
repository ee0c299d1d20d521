-- wrk script: every connection books seat 1 (the seed's contended drop).
wrk.method = "POST"
wrk.path = "/api/book/1"

dofile("bench/report.lua")
