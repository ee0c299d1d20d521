#!/usr/bin/env bash
# Prints the best-available simulator's table: sequences of group requests
# (uniform 2s, 4s, 6s; mixed sizes 1–8 and 2–8, ten seeds each) played
# against three house shapes (5×40, 20×25, 30 rows of 30–60 seats) with the
# real hold_best script on a real redis-server, for the packing choice the
# component runs and the previous centred one. Also checks the issue's
# targets (the run fails if one is missed). No Spin needed: the script is
# driven with EVAL directly.
#
#   scripts/simulate-best-available.sh
#
# The simulator is the test simulated_sell_through_meets_the_targets in
# integration/tests/best_available.rs (what each column means is at its
# top); this runs exactly:
#   cargo test -p integration --test best_available \
#     simulated_sell_through_meets_the_targets -- --exact --nocapture
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_redis_server
say "simulating best available (integration/tests/best_available.rs)"
cargo test --quiet -p integration --test best_available \
  simulated_sell_through_meets_the_targets -- --exact --nocapture
