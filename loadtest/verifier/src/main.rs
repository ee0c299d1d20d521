//! `load-verifier`: checks a finished load run against docs/design.md's
//! invariants and charts it. Exit status 0 when every invariant holds, 1 on
//! a violation, 2 when it could not check (unreadable report, no Redis).
//!
//! ```sh
//! load-verifier --report target/load-test/report.json --redis redis://127.0.0.1:6379 \
//!   --event default --event lt-xyz-hall --chart target/load-test/chart.html
//! ```
//!
//! After a failover run (`scripts/load-test.sh --failover`), against the new
//! primary, with what `loadtest/failover.js` recorded:
//!
//! ```sh
//! load-verifier --report target/load-test/report.json --redis redis://127.0.0.1:<new primary> \
//!   --acknowledged target/load-test/failover-acknowledged.jsonl \
//!   --writes target/load-test/failover-writes.jsonl
//! ```
//!
//! Its output then ends with `acknowledged bookings lost: N`, `seats sold
//! twice: N` and `writes unavailable: X s`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use load_verifier::failover::{self, Ledger, Writes};
use load_verifier::invariants::{check_counting, Counting};
use load_verifier::report::Report;
use load_verifier::state::EventState;
use load_verifier::{chart, summary};

/// Checks a load test run: Artillery's JSON report against the state in Redis.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Artillery's JSON report (`artillery run --output`).
    #[arg(long)]
    report: PathBuf,
    /// The Redis the service under test used. Run this after the load stopped.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// An event the run used (repeatable). Every event the report counted
    /// 201s for is checked as well.
    #[arg(long = "event")]
    events: Vec<String>,
    /// Where to write the HTML chart of the run.
    #[arg(long)]
    chart: Option<PathBuf>,
    /// Clock difference tolerated between the component (which writes a
    /// hold's expiresAt) and Redis (which runs its TTL), in ms.
    #[arg(long, default_value_t = 1000)]
    slack_ms: i64,
    /// Failover mode: the bookings answered 201 and the cancellations
    /// answered 204, as JSON lines (`loadtest/failover.js`). Each is checked
    /// by id, and "201s = stored" becomes "every 201 is stored".
    #[arg(long, requires = "writes")]
    acknowledged: Option<PathBuf>,
    /// Failover mode: every answer's send time, duration and status, as
    /// JSON lines (`loadtest/failover.js`).
    #[arg(long, requires = "acknowledged")]
    writes: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("load-verifier: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Checks every event and prints the summary; true when all invariants hold.
fn run(args: Args) -> Result<bool> {
    let path = args.report.display();
    let text = std::fs::read_to_string(&args.report).with_context(|| format!("read {path}"))?;
    let report = Report::from_json(&text).with_context(|| format!("parse {path}"))?;
    let failover = match (&args.acknowledged, &args.writes) {
        (Some(acknowledged), Some(writes)) => Some((
            Ledger::parse(&read(acknowledged)?)
                .with_context(|| format!("parse {}", acknowledged.display()))?,
            Writes::parse(&read(writes)?).with_context(|| format!("parse {}", writes.display()))?,
        )),
        _ => None,
    };
    let counting = if failover.is_some() {
        Counting::AtLeast
    } else {
        Counting::Exact
    };
    let mut events = args.events;
    events.extend(report.events());
    if let Some((ledger, _)) = &failover {
        events.extend(ledger.events());
    }
    events.sort();
    events.dedup();
    if events.is_empty() {
        bail!("no event to check: pass --event, or a report with loadtest.* counters");
    }

    let mut conn = redis::Client::open(args.redis.as_str())
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
        .with_context(|| format!("connect to {}", args.redis))?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .context("set the Redis read timeout")?;
    let mut checks = Vec::new();
    let mut states = Vec::new();
    for event in &events {
        let state = EventState::read(&mut conn, event)
            .with_context(|| format!("read event {event} from {}", args.redis))?;
        checks.push(check_counting(
            &state,
            report.reported(event),
            args.slack_ms,
            counting,
        ));
        states.push(state);
    }

    let text = summary::render(&report, &checks);
    let mut passed = summary::passed(&report, &checks);
    let failover_text = failover.map(|(ledger, writes)| {
        let outcome = failover::check(&ledger, &writes, &states);
        passed &= outcome.passed();
        failover::render(&ledger, &writes, &outcome)
    });
    print!("{text}");
    if let Some(chart_path) = &args.chart {
        let verdict = text.lines().last().unwrap_or_default();
        let traffic = text.lines().next().unwrap_or_default();
        std::fs::write(
            chart_path,
            chart::html(&report, &format!("{verdict} | {traffic}")),
        )
        .with_context(|| format!("write {}", chart_path.display()))?;
        println!("chart: {}", chart_path.display());
    }
    // The failover section comes last: it ends with the run's three lines.
    if let Some(failover_text) = failover_text {
        print!("{failover_text}");
    }
    Ok(passed)
}

fn read(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))
}
