#!/usr/bin/env bash
# Prints the best-available simulator's table: sequences of group requests
# (uniform 2s, 4s, 6s; mixed sizes 1–8 and 2–8, ten seeds each) played
# against three house shapes (5×40, 20×25, 30 rows of 30–60 seats) with the
# real hold_best script on a real redis-server, for the packing choice the
# component runs and the previous centred one. Also checks the issue's
# targets for the packing choice, that they catch the centred one, and
# that the simulator reproduces the issue's report (the run fails
# otherwise). No Spin needed: the script is driven with EVAL directly.
#
#   scripts/simulate-best-available.sh
#
# The comparison is the example integration/examples/best_available_simulation.rs
# (not a test: CI's integration/tests/best_available.rs asserts the targets
# for the packing choice alone); this runs exactly:
#   cargo run -p integration --example best_available_simulation
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_redis_server
say "simulating best available (integration/examples/best_available_simulation.rs)"
cargo run --quiet -p integration --example best_available_simulation
