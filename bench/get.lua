-- wrk script: plain GETs of the URL given on the command line.

dofile("bench/report.lua")
