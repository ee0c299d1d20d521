//! The run as a picture: one self-contained HTML file with inline SVG line
//! charts of throughput and latency over time (Artillery's 10 s periods),
//! overall and per request, so no network or browser plug-in is needed.

use std::fmt::Write;

use crate::report::{Period, Report, REQUEST_LATENCY};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;
const COLOURS: [&str; 12] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939",
];

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend text.
    pub name: String,
    /// (seconds into the run, value) pairs, in time order.
    pub points: Vec<(f64, f64)>,
}

/// The HTML page for `report`, headed by `title` (e.g. the verdict).
pub fn html(report: &Report, title: &str) -> String {
    let names = report.request_names();
    let mid = |p: &Period| p.start_s + p.width_s / 2.0;
    let series_of = |name: &str, value: &dyn Fn(&Period) -> Option<f64>| Series {
        name: name.to_owned(),
        points: report
            .periods
            .iter()
            .filter_map(|p| Some((mid(p), value(p)?)))
            .collect(),
    };

    let mut throughput = vec![series_of("all requests", &|p| {
        Some(p.requests_per_second())
    })];
    for name in &names {
        throughput.push(series_of(name, &|p| Some(p.responses_per_second(name))));
    }
    let overall = |pick: fn(&crate::report::Latency) -> f64| {
        move |p: &Period| p.latencies.get("http.response_time").map(pick)
    };
    let latency = vec![
        series_of("p50", &overall(|l| l.p50)),
        series_of("p95", &overall(|l| l.p95)),
        series_of("p99", &overall(|l| l.p99)),
    ];
    let per_request: Vec<Series> = names
        .iter()
        .map(|name| {
            let key = format!("{REQUEST_LATENCY}{name}");
            series_of(name, &|p| p.latencies.get(&key).map(|l| l.p95))
        })
        .collect();

    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Load test</title>\n<style>\
         body{{font-family:sans-serif;margin:24px;color:#222}} table{{border-collapse:collapse}}\
         td,th{{padding:2px 10px;text-align:right;border-bottom:1px solid #ddd}} td:first-child,th:first-child{{text-align:left}}\
         </style></head><body>\n<h1>Load test</h1>\n<p>{}</p>\n",
        escape(title)
    );
    page += &line_chart("Throughput (requests per second)", &throughput);
    page += &line_chart("Latency, all requests (ms)", &latency);
    page += &line_chart("p95 latency per request (ms)", &per_request);
    page += &table(report, &names);
    page += "</body></html>\n";
    page
}

/// One SVG line chart; the y axis starts at 0 and ends at a round number.
pub fn line_chart(title: &str, series: &[Series]) -> String {
    let points = series.iter().flat_map(|s| s.points.iter());
    let x_max = nice(points.clone().map(|p| p.0).fold(0.0, f64::max));
    let y_max = nice(points.map(|p| p.1).fold(0.0, f64::max));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |v: f64| LEFT + v / x_max * plot_w;
    let y = |v: f64| TOP + plot_h - v / y_max * plot_h;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<h2>{}</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" font-size=\"12\">",
        escape(title)
    );
    for i in 0..=5 {
        let (xv, yv) = (x_max * i as f64 / 5.0, y_max * i as f64 / 5.0);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e5e5e5\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            LEFT + plot_w,
            y(yv),
            y(yv),
            LEFT - 6.0,
            y(yv) + 4.0,
            label(yv),
            x(xv),
            TOP + plot_h + 16.0,
            label(xv)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">seconds into the run</text>",
        LEFT + plot_w / 2.0,
        HEIGHT - 6.0
    );
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = s
            .points
            .iter()
            .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"4\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            path.join(" "),
            WIDTH - RIGHT + 14.0,
            TOP + 16.0 * i as f64,
            WIDTH - RIGHT + 30.0,
            TOP + 16.0 * i as f64 + 6.0,
            escape(&s.name)
        );
    }
    svg += "</svg>\n";
    svg
}

fn table(report: &Report, names: &[String]) -> String {
    let mut out = String::from(
        "<h2>Per request, whole run</h2>\n<table><tr><th>request</th><th>count</th><th>req/s</th>\
         <th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>\n",
    );
    for name in names {
        let l = report.request_latency(name);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            l.count,
            l.count as f64 / report.duration_s,
            l.p50,
            l.p95,
            l.p99,
            l.max
        );
    }
    out += "</table>\n";
    out
}

/// The smallest of 1, 2, 5 times a power of ten that is at least `v` (1 for nothing).
fn nice(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&n| n >= v)
        .unwrap_or(10.0 * power)
}

fn label(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_at_round_numbers() {
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(7.0), 10.0);
        assert_eq!(nice(150.0), 200.0);
        assert_eq!(nice(0.3), 0.5);
        assert_eq!(nice(500.0), 500.0);
    }

    #[test]
    fn a_chart_draws_each_series_within_the_plot() {
        let series = [
            Series {
                name: "all <requests>".into(),
                points: vec![(5.0, 10.0), (15.0, 40.0)],
            },
            Series {
                name: "book".into(),
                points: vec![(5.0, 0.0)],
            },
        ];
        let svg = line_chart("Throughput", &series);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("all &lt;requests&gt;"), "{svg}");
        // x axis 0..20 s, y axis 0..50: (15, 40) lands at 60 + 0.75 * 710, 30 + 230 - 0.8 * 230.
        assert!(svg.contains("592.5,76.0"), "{svg}");
        assert!(svg.contains(">50</text>"), "{svg}");
    }

    #[test]
    fn the_page_has_throughput_latency_and_a_table_per_request() {
        let json = serde_json::json!({
            "aggregate": {"firstMetricAt": 0, "lastMetricAt": 20_000,
                "counters": {"http.requests": 30},
                "summaries": {"plugins.metrics-by-endpoint.response_time.book": {"count": 30, "p50": 1, "p95": 2, "p99": 3, "max": 9}}},
            "intermediate": [
                {"firstMetricAt": 0, "lastMetricAt": 10_000,
                 "counters": {"http.requests": 20, "plugins.metrics-by-endpoint.book.codes.201": 20},
                 "summaries": {"http.response_time": {"count": 20, "p50": 1, "p95": 2, "p99": 3, "max": 9},
                               "plugins.metrics-by-endpoint.response_time.book": {"count": 20, "p50": 1, "p95": 2, "p99": 3, "max": 9}}},
                {"firstMetricAt": 10_000, "lastMetricAt": 20_000,
                 "counters": {"http.requests": 10}, "summaries": {}}
            ]
        });
        let report = Report::from_json(&json.to_string()).unwrap();
        let page = html(&report, "PASS & done");
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("PASS &amp; done"));
        assert_eq!(page.matches("<svg").count(), 3);
        assert!(
            page.contains("<td>book</td><td>30</td><td>1.5</td>"),
            "{page}"
        );
        assert!(
            !page.contains("src=") && !page.contains("href="),
            "self-contained"
        );
    }
}
