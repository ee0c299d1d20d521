//! Artillery's JSON report (`artillery run --output`): the counters the
//! load test's processor adds per event (what the clients were told), and the
//! request figures the summary and the chart show.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// Prefix of the per-request latency summaries that the metrics-by-endpoint
/// plugin writes (`useOnlyRequestNames`: the rest is the request's name).
pub const REQUEST_LATENCY: &str = "plugins.metrics-by-endpoint.response_time.";
/// Prefix of the per-request status code counters of the same plugin.
const REQUEST_CODES: &str = "plugins.metrics-by-endpoint.";

/// Latency figures of one metric, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Latency {
    /// How many responses the figures cover.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest response.
    pub max: f64,
}

/// One of Artillery's reporting periods (its `intermediate` entries).
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// Seconds from the run's first metric to this period's first metric.
    pub start_s: f64,
    /// Seconds of traffic the period covers (at least one, so rates stay finite).
    pub width_s: f64,
    /// Counters of this period.
    pub counters: BTreeMap<String, u64>,
    /// Latency summaries of this period.
    pub latencies: BTreeMap<String, Latency>,
}

impl Period {
    /// Requests per second in this period.
    pub fn requests_per_second(&self) -> f64 {
        self.counters.get("http.requests").copied().unwrap_or(0) as f64 / self.width_s
    }

    /// Responses per second to the request named `name`.
    pub fn responses_per_second(&self, name: &str) -> f64 {
        responses_to(&self.counters, name) as f64 / self.width_s
    }
}

/// What the 201 answers of one event told the clients, counted by the
/// processor (`loadtest/processor.js`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reported {
    /// 201s that made a booking.
    pub bookings: u64,
    /// Seats those bookings sold.
    pub seats: u64,
    /// 201s that made a hold.
    pub holds: u64,
    /// 201s that joined a waiting room.
    pub tickets: u64,
}

/// The parts of a report the verifier reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Totals over the run.
    pub counters: BTreeMap<String, u64>,
    /// Latency summaries over the run.
    pub latencies: BTreeMap<String, Latency>,
    /// Seconds from the first to the last metric.
    pub duration_s: f64,
    /// The reporting periods, in order.
    pub periods: Vec<Period>,
}

impl Report {
    /// Parses the JSON Artillery wrote with `--output`.
    pub fn from_json(text: &str) -> Result<Report> {
        let json: Value = serde_json::from_str(text).context("the report is not JSON")?;
        let aggregate = json
            .get("aggregate")
            .context("the report has no `aggregate` section")?;
        let first = number(aggregate, "firstMetricAt")?;
        let last = number(aggregate, "lastMetricAt")?;
        let mut periods = Vec::new();
        for (i, period) in json
            .get("intermediate")
            .and_then(Value::as_array)
            .context("the report has no `intermediate` list")?
            .iter()
            .enumerate()
        {
            let start = number(period, "firstMetricAt").with_context(|| format!("period {i}"))?;
            let end = number(period, "lastMetricAt").with_context(|| format!("period {i}"))?;
            periods.push(Period {
                start_s: (start - first) / 1000.0,
                width_s: ((end - start) / 1000.0).max(1.0),
                counters: counters(period).with_context(|| format!("period {i}"))?,
                latencies: latencies(period).with_context(|| format!("period {i}"))?,
            });
        }
        Ok(Report {
            counters: counters(aggregate).context("aggregate")?,
            latencies: latencies(aggregate).context("aggregate")?,
            duration_s: ((last - first) / 1000.0).max(1.0),
            periods,
        })
    }

    /// A counter's total, 0 when it never counted.
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    /// What the 201s of `event` told the clients.
    pub fn reported(&self, event: &str) -> Reported {
        Reported {
            bookings: self.counter(&format!("loadtest.bookings_201.{event}")),
            seats: self.counter(&format!("loadtest.seats_201.{event}")),
            holds: self.counter(&format!("loadtest.holds_201.{event}")),
            tickets: self.counter(&format!("loadtest.tickets_201.{event}")),
        }
    }

    /// Events the processor counted 201s for.
    pub fn events(&self) -> Vec<String> {
        let mut events: Vec<String> = self
            .counters
            .keys()
            .filter_map(|k| {
                [
                    "loadtest.bookings_201.",
                    "loadtest.holds_201.",
                    "loadtest.tickets_201.",
                ]
                .iter()
                .find_map(|p| k.strip_prefix(p))
            })
            .map(str::to_owned)
            .collect();
        events.sort();
        events.dedup();
        events
    }

    /// Requests per second over the whole run.
    pub fn requests_per_second(&self) -> f64 {
        self.counter("http.requests") as f64 / self.duration_s
    }

    /// The named requests of the test, in name order.
    pub fn request_names(&self) -> Vec<String> {
        self.latencies
            .keys()
            .filter_map(|k| k.strip_prefix(REQUEST_LATENCY))
            .map(str::to_owned)
            .collect()
    }

    /// Latency of the request named `name`.
    pub fn request_latency(&self, name: &str) -> Latency {
        self.latencies
            .get(&format!("{REQUEST_LATENCY}{name}"))
            .copied()
            .unwrap_or_default()
    }

    /// Responses to `name` by status code.
    pub fn request_codes(&self, name: &str) -> BTreeMap<u16, u64> {
        let prefix = format!("{REQUEST_CODES}{name}.codes.");
        self.counters
            .iter()
            .filter_map(|(k, &n)| Some((k.strip_prefix(&prefix)?.parse().ok()?, n)))
            .collect()
    }

    /// Counters whose name starts with `prefix`, with the prefix taken off
    /// (`errors.` gives the transport errors, `http.codes.` the status codes).
    pub fn with_prefix(&self, prefix: &str) -> BTreeMap<String, u64> {
        self.counters
            .iter()
            .filter_map(|(k, &n)| Some((k.strip_prefix(prefix)?.to_owned(), n)))
            .collect()
    }
}

/// Sum of the status code counters of the request `name`.
fn responses_to(counters: &BTreeMap<String, u64>, name: &str) -> u64 {
    let prefix = format!("{REQUEST_CODES}{name}.codes.");
    counters
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(_, &n)| n)
        .sum()
}

fn number(section: &Value, field: &str) -> Result<f64> {
    section
        .get(field)
        .and_then(Value::as_f64)
        .with_context(|| format!("no number `{field}`"))
}

fn counters(section: &Value) -> Result<BTreeMap<String, u64>> {
    let Some(map) = section.get("counters").and_then(Value::as_object) else {
        bail!("no `counters` object");
    };
    map.iter()
        .map(|(k, v)| {
            let n = v
                .as_u64()
                .with_context(|| format!("counter {k} is not a count: {v}"))?;
            Ok((k.clone(), n))
        })
        .collect()
}

fn latencies(section: &Value) -> Result<BTreeMap<String, Latency>> {
    let Some(map) = section.get("summaries").and_then(Value::as_object) else {
        bail!("no `summaries` object");
    };
    map.iter()
        .map(|(k, v)| {
            let field = |f: &str| number(v, f).with_context(|| format!("summary {k}"));
            let latency = Latency {
                count: field("count")? as u64,
                p50: field("p50")?,
                p95: field("p95")?,
                p99: field("p99")?,
                max: field("max")?,
            };
            Ok((k.clone(), latency))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(p50: f64) -> Value {
        serde_json::json!({"count": 4, "p50": p50, "p95": p50 * 2.0, "p99": p50 * 3.0, "max": 99, "min": 0})
    }

    fn sample() -> String {
        serde_json::json!({
            "aggregate": {
                "firstMetricAt": 1_000_000, "lastMetricAt": 1_020_000,
                "counters": {
                    "http.requests": 400,
                    "loadtest.bookings_201.gala": 3, "loadtest.seats_201.gala": 7,
                    "loadtest.holds_201.gala": 5, "loadtest.holds_201.arena": 1,
                    "plugins.metrics-by-endpoint.book.codes.201": 3,
                    "plugins.metrics-by-endpoint.book.codes.409": 9,
                    "errors.ETIMEDOUT": 2
                },
                "summaries": {
                    "http.response_time": summary(2.0),
                    "plugins.metrics-by-endpoint.response_time.book": summary(1.5)
                }
            },
            "intermediate": [
                {"firstMetricAt": 1_000_000, "lastMetricAt": 1_005_000,
                 "counters": {"http.requests": 100, "plugins.metrics-by-endpoint.book.codes.201": 10},
                 "summaries": {"http.response_time": summary(1.0)}},
                {"firstMetricAt": 1_010_000, "lastMetricAt": 1_010_000,
                 "counters": {"http.requests": 3}, "summaries": {}}
            ]
        })
        .to_string()
    }

    #[test]
    fn reads_what_the_201s_told_per_event() {
        let report = Report::from_json(&sample()).unwrap();
        let gala = Reported {
            bookings: 3,
            seats: 7,
            holds: 5,
            tickets: 0,
        };
        assert_eq!(report.reported("gala"), gala);
        assert_eq!(report.reported("nothing"), Reported::default());
        assert_eq!(report.events(), ["arena", "gala"]);
    }

    #[test]
    fn rates_use_the_covered_time_and_never_divide_by_zero() {
        let report = Report::from_json(&sample()).unwrap();
        assert_eq!(report.requests_per_second(), 20.0);
        assert_eq!(report.periods[0].requests_per_second(), 20.0);
        assert_eq!(report.periods[0].responses_per_second("book"), 2.0);
        assert_eq!(report.periods[1].start_s, 10.0);
        assert_eq!(report.periods[1].width_s, 1.0);
    }

    #[test]
    fn reads_requests_by_name() {
        let report = Report::from_json(&sample()).unwrap();
        assert_eq!(report.request_names(), ["book"]);
        assert_eq!(report.request_latency("book").p99, 4.5);
        assert_eq!(
            report.request_codes("book"),
            BTreeMap::from([(201, 3), (409, 9)])
        );
        assert_eq!(
            report.with_prefix("errors."),
            BTreeMap::from([("ETIMEDOUT".to_owned(), 2)])
        );
    }

    #[test]
    fn refuses_what_is_not_an_artillery_report() {
        let err = Report::from_json("{}").unwrap_err();
        assert!(err.to_string().contains("aggregate"), "{err:#}");
        assert!(Report::from_json("not json").is_err());
        let bad = sample().replace("\"http.requests\":400", "\"http.requests\":\"x\"");
        let err = Report::from_json(&bad).unwrap_err();
        assert!(format!("{err:#}").contains("http.requests"), "{err:#}");
    }
}
