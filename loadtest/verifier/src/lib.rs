//! The load test's verifier: after an Artillery run (`load-test.yml`), it
//! holds what the 201 answers told the clients (Artillery's JSON report)
//! against what Redis stores, checks docs/design.md's invariants on every event
//! the run used, prints a one-screen summary, and draws the run as an HTML
//! chart. `scripts/load-test.sh` runs it; `docs/load-test.md` explains it.

pub mod chart;
pub mod failover;
pub mod invariants;
pub mod report;
pub mod state;
pub mod summary;
