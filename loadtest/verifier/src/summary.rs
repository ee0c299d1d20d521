//! The one-screen summary the verifier prints: the traffic as Artillery
//! measured it, each event's 201s against Redis, and the verdict per invariant.

use std::fmt::Write;

use crate::invariants::{report_violations, EventCheck, Invariant};
use crate::report::Report;

/// Violations listed per invariant before "… and N more".
const SHOWN: usize = 8;

/// True when neither the report nor any event broke an invariant.
pub fn passed(report: &Report, checks: &[EventCheck]) -> bool {
    report_violations(report).is_empty() && checks.iter().all(|c| c.violations.is_empty())
}

/// The summary text, ending with the verdict line.
pub fn render(report: &Report, checks: &[EventCheck]) -> String {
    let mut out = String::new();
    traffic(&mut out, report);
    requests(&mut out, report);
    events(&mut out, checks);
    verdicts(&mut out, report, checks);
    out
}

fn traffic(out: &mut String, report: &Report) {
    let peak = report
        .periods
        .iter()
        .map(|p| p.requests_per_second())
        .fold(0.0, f64::max);
    let errors = report.with_prefix("errors.");
    let error_total: u64 = errors.values().sum();
    let _ = writeln!(
        out,
        "traffic: {} requests in {:.0} s = {:.1} req/s sustained (peak period {:.1} req/s), {} errors",
        report.counter("http.requests"),
        report.duration_s,
        report.requests_per_second(),
        peak,
        error_total
    );
    let _ = writeln!(
        out,
        "  virtual users {} created, {} completed, {} failed; codes {}",
        report.counter("vusers.created"),
        report.counter("vusers.completed"),
        report.counter("vusers.failed"),
        pairs(&report.with_prefix("http.codes."))
    );
    if error_total > 0 {
        let _ = writeln!(out, "  errors: {}", pairs(&errors));
    }
    let failed = report.counter("plugins.expect.failed");
    if failed > 0 {
        let _ = writeln!(out, "  unexpected answers (expect plugin): {failed}");
    }
}

fn requests(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "\n{:<16}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}  codes",
        "request", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    let all = report
        .latencies
        .get("http.response_time")
        .copied()
        .unwrap_or_default();
    for name in report.request_names() {
        let l = report.request_latency(&name);
        let codes = report.request_codes(&name);
        let codes: Vec<String> = codes.iter().map(|(c, n)| format!("{c}:{n}")).collect();
        let rate = l.count as f64 / report.duration_s;
        let _ = writeln!(
            out,
            "{name:<16}{:>8}{rate:>8.1}{:>8.1}{:>8.1}{:>8.1}{:>8.0}  {}",
            l.count,
            l.p50,
            l.p95,
            l.p99,
            l.max,
            codes.join(" ")
        );
    }
    let rate = report.requests_per_second();
    let _ = writeln!(
        out,
        "{:<16}{:>8}{rate:>8.1}{:>8.1}{:>8.1}{:>8.1}{:>8.0}",
        "all", all.count, all.p50, all.p95, all.p99, all.max
    );
}

fn events(out: &mut String, checks: &[EventCheck]) {
    let _ = writeln!(
        out,
        "\n{:<28}{:>18}{:>18}{:>16}{:>10}{:>11}{:>14}",
        "event (201s/stored)", "bookings", "seats", "holds", "sold now", "live holds", "tickets"
    );
    for c in checks {
        let (r, s) = (c.reported, c.stored);
        let pair = |a: u64, b: u64| format!("{a}/{b}");
        let _ = writeln!(
            out,
            "{:<28}{:>18}{:>18}{:>16}{:>10}{:>11}{:>14}",
            c.event,
            pair(r.bookings, s.bookings),
            pair(r.seats, s.seats),
            pair(r.holds, s.holds),
            s.sold_seats,
            s.live_holds,
            pair(r.tickets, s.tickets)
        );
    }
}

fn verdicts(out: &mut String, report: &Report, checks: &[EventCheck]) {
    let _ = writeln!(out, "\ninvariants (docs/design.md):");
    let from_report = report_violations(report);
    let all: Vec<(&str, &crate::invariants::Violation)> = from_report
        .iter()
        .map(|v| ("report", v))
        .chain(
            checks
                .iter()
                .flat_map(|c| c.violations.iter().map(move |v| (c.event.as_str(), v))),
        )
        .collect();
    let mut total = 0;
    for invariant in Invariant::ALL {
        let found: Vec<String> = all
            .iter()
            .filter(|(_, v)| v.invariant == invariant)
            .map(|(source, v)| format!("{source}: {}", v.detail))
            .collect();
        total += found.len();
        let mark = if found.is_empty() { "ok  " } else { "FAIL" };
        let count = if found.is_empty() {
            String::new()
        } else {
            format!(" ({} violations)", found.len())
        };
        let _ = writeln!(
            out,
            "  {mark} {:<4}{invariant}{count}",
            invariant.design_numbers()
        );
        for line in found.iter().take(SHOWN) {
            let _ = writeln!(out, "         {line}");
        }
        if found.len() > SHOWN {
            let _ = writeln!(out, "         … and {} more", found.len() - SHOWN);
        }
    }
    let verdict = if total == 0 {
        format!("PASS: {} events, every invariant holds", checks.len())
    } else {
        format!("FAIL: {total} violations")
    };
    let _ = writeln!(out, "verifier verdict: {verdict}");
}

fn pairs(map: &std::collections::BTreeMap<String, u64>) -> String {
    let items: Vec<String> = map.iter().map(|(k, n)| format!("{k}:{n}")).collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariants::{Stored, Violation};
    use crate::report::Reported;

    fn report() -> Report {
        let json = serde_json::json!({
            "aggregate": {
                "firstMetricAt": 0, "lastMetricAt": 10_000,
                "counters": {"http.requests": 50, "http.codes.201": 20, "http.codes.409": 30,
                             "vusers.created": 50, "vusers.completed": 49, "vusers.failed": 1,
                             "errors.ETIMEDOUT": 1,
                             "plugins.metrics-by-endpoint.book.codes.201": 20},
                "summaries": {
                    "http.response_time": {"count": 50, "p50": 1, "p95": 2, "p99": 3, "max": 4},
                    "plugins.metrics-by-endpoint.response_time.book": {"count": 20, "p50": 1, "p95": 2, "p99": 3, "max": 4}
                }
            },
            "intermediate": []
        });
        Report::from_json(&json.to_string()).unwrap()
    }

    fn event(name: &str, violations: usize) -> EventCheck {
        EventCheck {
            event: name.into(),
            reported: Reported {
                bookings: 20,
                seats: 20,
                holds: 0,
                tickets: 0,
            },
            stored: Stored {
                bookings: 20,
                seats: 20,
                sold_seats: 20,
                holds: 0,
                live_holds: 0,
                tickets: 0,
            },
            violations: (0..violations)
                .map(|i| Violation {
                    invariant: Invariant::NoDoubleBooking,
                    detail: format!("seat A-{i} is sold to 2 bookings"),
                })
                .collect(),
        }
    }

    #[test]
    fn a_clean_run_says_pass_with_the_traffic_figures() {
        let checks = [event("gala", 0)];
        let text = render(&report(), &checks);
        assert!(passed(&report(), &checks));
        assert!(text.contains("50 requests in 10 s = 5.0 req/s"), "{text}");
        assert!(
            text.contains("1 errors") && text.contains("ETIMEDOUT:1"),
            "{text}"
        );
        assert!(text.contains("codes 201:20 409:30"), "{text}");
        assert!(text.contains("book") && text.contains("201:20"), "{text}");
        assert!(text.contains("20/20"), "{text}");
        assert!(
            text.ends_with("verifier verdict: PASS: 1 events, every invariant holds\n"),
            "{text}"
        );
        assert!(text.lines().count() <= 25, "{text}");
    }

    #[test]
    fn an_unreadable_201_fails_the_run() {
        let mut report = report();
        report.counters.insert("loadtest.unparsable_201".into(), 2);
        let checks = [event("gala", 0)];
        let text = render(&report, &checks);
        assert!(!passed(&report, &checks));
        assert!(
            text.contains("report: 2 answers were 201 with a body that is not JSON"),
            "{text}"
        );
        assert!(
            text.ends_with("verifier verdict: FAIL: 1 violations\n"),
            "{text}"
        );
    }

    #[test]
    fn violations_fail_and_stay_on_one_screen() {
        let checks = [event("gala", 20)];
        let text = render(&report(), &checks);
        assert!(!passed(&report(), &checks));
        assert!(
            text.contains("FAIL 1   no seat booked twice (20 violations)"),
            "{text}"
        );
        assert!(
            text.contains("gala: seat A-0 is sold to 2 bookings"),
            "{text}"
        );
        assert!(text.contains("… and 12 more"), "{text}");
        assert!(
            text.ends_with("verifier verdict: FAIL: 20 violations\n"),
            "{text}"
        );
        assert!(text.lines().count() <= 35, "{text}");
    }
}
