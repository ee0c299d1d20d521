# Condenses Artillery's console output while it runs (scripts/load-test.sh):
# phase changes, failed expectations and errors as they come, and one line
# per 10 s period with its request rate, status codes and latency. It reads
# to the end (never exits early), so Artillery never writes into a closed pipe.
done { next }
/^Summary report/ { done = 1; next }
/^Phase (started|completed)/ { print "  " $0; fflush(); next }
/^load test run / { print "  " $0; fflush(); next }
/^Metrics for period to:/ {
  period = $5; sub(/\(.*/, "", period)
  rate = "?"; codes = ""; errors = ""; p50 = "?"; p99 = "?"; in_latency = 0
  next
}
/^http\.request_rate:/ { rate = $NF; next }
/^http\.codes\./ { code = $1; sub(/^http\.codes\./, "", code); sub(/:$/, "", code); codes = codes " " code "x" $NF; next }
/^errors\./ { name = $0; sub(/^errors\./, "", name); sub(/: \.* *[0-9]+$/, "", name); errors = errors "; " name " x" $NF; next }
/^http\.response_time:$/ { in_latency = 1; next }
in_latency && /^  median:/ { p50 = $NF; next }
in_latency && /^  p99:/ { p99 = $NF; in_latency = 0; next }
/^vusers\.failed:/ {
  line = sprintf("  %s  %s  codes%s  p50 %s ms  p99 %s ms  failed users %s", period, rate, codes, p50, p99, $NF)
  if (errors != "") line = line "  errors: " substr(errors, 3)
  print line; fflush(); next
}
# A failed expectation starts with "* METHOD url - name"; show the first few.
/^\* / { unexpected++; if (unexpected <= 10) { print "  unexpected answer: " substr($0, 3); fflush() }; next }
/^ +got: / { if (unexpected <= 10) { print "    " $0; fflush() }; next }
/^Error:/ { errors_seen++; if (errors_seen <= 10) { print "  " $0; fflush() }; next }
END {
  if (unexpected > 10) print "  ... " unexpected " unexpected answers in all (see artillery.log)"
  if (errors_seen > 10) print "  ... " errors_seen " errors in all (see artillery.log)"
}
