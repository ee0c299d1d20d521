# Prints Artillery's final summary from its log (scripts/load-test.sh),
# without the per-request blocks the verifier's table repeats, and its checks.
/^Summary report/ { on = 1 }
!on { next }
/^[^ ]/ { skip = ($1 ~ /^(plugins\.|loadtest\.|http\.response_time\.[0-9]xx|vusers\.session_length|http\.downloaded_bytes)/) }
skip { next }
{ print }
