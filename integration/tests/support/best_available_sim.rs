//! The best-available simulator (issue 13), shared by the CI test
//! `best_available.rs` (the packing choice the component runs, against the
//! issue's targets) and the example `best_available_simulation.rs` (the
//! table of that choice beside the previous centred one, which
//! `scripts/simulate-best-available.sh` prints).
//!
//! It plays sequences of group requests against hold_best as the
//! component sends it, with `EVAL` on a real redis-server (no Spin:
//! thousands of requests). It keeps its own picture of the house from the
//! seats each hold returns, checks every hold against it, and reports, per
//! venue, sequence and script:
//!
//! - sell-through at the first refusal: seats held ÷ seats in the house
//!   when the first group is refused;
//! - sell-through at the end: groups keep coming from the same sequence, a
//!   refused group walks away, and the run ends when a group of every size
//!   in the sequence has been refused (the house only fills, so a size once
//!   refused stays refused: at the end no group of the sequence fits);
//! - orphans: free seats whose neighbours on both sides are taken or the
//!   row's end, at the end; and those created by a hold while some other
//!   placement in the house would have created none ("avoidable");
//! - rows back: holds placed behind the front-most row that could seat the
//!   group, and the most rows back one went;
//! - the script's cost: `INFO commandstats` usec_per_call of `eval`.

use std::collections::HashSet;
use std::fmt::Write as _;

use integration::{eval_event_script, event_script, RedisServer};
use redis::Commands;
use serde_json::{json, Value};

/// A house: its rows' seat counts, front row first.
pub struct Venue {
    pub name: &'static str,
    pub rows: Vec<usize>,
}

/// The three shapes: a small hall (the issue's), a square one whose rows
/// no even group size divides, and a big one of uneven rows.
pub fn venues() -> Vec<Venue> {
    let mut rng = Rng(30);
    vec![
        Venue {
            name: "5×40",
            rows: vec![40; 5],
        },
        Venue {
            name: "20×25",
            rows: vec![25; 20],
        },
        Venue {
            name: "30 rows of 30–60",
            rows: (0..30).map(|_| 30 + rng.below(31)).collect(),
        },
    ]
}

/// The group sizes buyers ask for, in order.
#[derive(Debug, Clone, Copy)]
pub enum Groups {
    /// Every group this size.
    Uniform(usize),
    /// Sizes from this one to 8, uniformly, from a seeded generator.
    Mixed(usize),
}

impl Groups {
    fn name(self) -> String {
        match self {
            Groups::Uniform(n) => format!("all {n}s"),
            Groups::Mixed(low) => format!("mixed {low}–8"),
        }
    }

    fn sizes(self) -> Vec<usize> {
        match self {
            Groups::Uniform(n) => vec![n],
            Groups::Mixed(low) => (low..=8).collect(),
        }
    }
}

/// SplitMix64: a small seeded generator, so every run plays the same
/// sequences.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The simulator's own picture of the house: `taken[row][seat]`.
struct House {
    taken: Vec<Vec<bool>>,
}

impl House {
    fn new(venue: &Venue) -> House {
        House {
            taken: venue.rows.iter().map(|&n| vec![false; n]).collect(),
        }
    }

    /// The free runs of row `r` as (first seat index, length).
    fn runs(&self, r: usize) -> Vec<(usize, usize)> {
        let row = &self.taken[r];
        let mut runs = Vec::new();
        let mut n = 0;
        while n < row.len() {
            if row[n] {
                n += 1;
                continue;
            }
            let start = n;
            while n < row.len() && !row[n] {
                n += 1;
            }
            runs.push((start, n - start));
        }
        runs
    }

    /// The front-most row with a run of `count` free seats.
    fn front_row_fitting(&self, count: usize) -> Option<usize> {
        (0..self.taken.len()).find(|&r| self.runs(r).iter().any(|&(_, l)| l >= count))
    }

    /// Whether some block of `count` strands no single seat: a run of
    /// exactly `count`, or of `count + 2` or more (flush with its edge).
    fn has_clean_block(&self, count: usize) -> bool {
        (0..self.taken.len()).any(|r| {
            self.runs(r)
                .iter()
                .any(|&(_, l)| l == count || l >= count + 2)
        })
    }

    /// The orphan seats of row `r`: runs of one.
    fn orphans(&self, r: usize) -> HashSet<usize> {
        self.runs(r)
            .into_iter()
            .filter(|&(_, l)| l == 1)
            .map(|(s, _)| s)
            .collect()
    }

    fn seats(&self) -> usize {
        self.taken.iter().map(Vec::len).sum()
    }

    fn sold(&self) -> usize {
        self.taken.iter().flatten().filter(|&&t| t).count()
    }
}

/// What one run of a sequence against a venue gave.
#[derive(Debug, Default)]
pub struct Outcome {
    seats: usize,
    sold_at_first_refusal: usize,
    sold_at_end: usize,
    pub groups_held: usize,
    orphans_at_end: usize,
    orphans_created: usize,
    avoidable_orphans_created: usize,
    holds_moved_back: usize,
    most_rows_back: usize,
    usec_per_call: f64,
}

impl Outcome {
    fn percent(&self, sold: usize) -> f64 {
        100.0 * sold as f64 / self.seats as f64
    }
}

/// Row labels: R1, R2, ...
fn label(r: usize) -> String {
    format!("R{}", r + 1)
}

/// Creates `event` with the venue's rows.
pub fn create_event(r: &mut redis::Connection, event: &str, venue: &Venue) {
    let rows: Vec<Value> = venue
        .rows
        .iter()
        .enumerate()
        .map(|(i, &n)| json!([label(i), n]))
        .collect();
    let seats: usize = venue.rows.iter().sum();
    let args = [
        "Sim".to_owned(),
        Value::from(rows).to_string(),
        seats.to_string(),
        "1".to_owned(),
    ];
    let created = eval_event_script(r, &event_script("create_event.lua"), event, &args);
    assert_eq!(created[0], "ok", "{created:?}");
}

/// `INFO commandstats` usec_per_call of `eval`.
fn eval_usec_per_call(r: &mut redis::Connection) -> f64 {
    let stats: String = redis::cmd("INFO").arg("commandstats").query(r).unwrap();
    stats
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_eval:"))
        .and_then(|f| f.split(',').find_map(|p| p.strip_prefix("usec_per_call=")))
        .and_then(|v| v.parse().ok())
        .expect("cmdstat_eval usec_per_call")
}

/// Plays `groups` against `venue` on `redis` with `script` (hold_best's
/// text, named `name`), checking every hold against the simulator's
/// picture of the house.
fn simulate(
    redis: &RedisServer,
    venue: &Venue,
    groups: Groups,
    (name, script): (&str, &str),
    seed: u64,
) -> Outcome {
    let mut r = redis.client();
    let event = format!("event:{{{}-{}-{name}-{seed}}}", venue.name, groups.name());
    create_event(&mut r, &event, venue);
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut r).unwrap();

    let mut house = House::new(venue);
    let mut out = Outcome {
        seats: house.seats(),
        ..Outcome::default()
    };
    let mut rng = Rng(seed);
    let sizes = groups.sizes();
    let mut refused: HashSet<usize> = HashSet::new();
    let mut first_refusal = None;
    while refused.len() < sizes.len() {
        let count = sizes[rng.below(sizes.len())];
        if refused.contains(&count) {
            continue;
        }
        let front = house.front_row_fitting(count);
        let clean = house.has_clean_block(count);
        let hold_id = format!("h{}", out.groups_held);
        let reply = hold_best_with(&mut r, script, &event, &hold_id, count, true);
        if reply == ["sold_out"] {
            assert_eq!(front, None, "refused {count} though a row had room");
            refused.insert(count);
            first_refusal.get_or_insert(house.sold());
            continue;
        }
        assert_eq!(reply[0], "ok", "{reply:?}");
        let body: Value = serde_json::from_str(&reply[1]).unwrap();
        let seats: Vec<(usize, usize)> = body["seats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let (row, n) = s.as_str().unwrap().rsplit_once('-').unwrap();
                let row: usize = row.trim_start_matches('R').parse().unwrap();
                (row - 1, n.parse::<usize>().unwrap() - 1)
            })
            .collect();
        assert_eq!(seats.len(), count);
        let row = seats[0].0;
        for (i, &(r, n)) in seats.iter().enumerate() {
            assert_eq!((r, n), (row, seats[0].1 + i), "one block: {seats:?}");
            assert!(!house.taken[r][n], "seat {r}-{n} held twice");
        }
        let before = house.orphans(row);
        for &(r, n) in &seats {
            house.taken[r][n] = true;
        }
        let created = house.orphans(row).difference(&before).count();
        out.orphans_created += created;
        if clean {
            out.avoidable_orphans_created += created;
        }
        let back = row - front.expect("a row had room");
        out.holds_moved_back += usize::from(back > 0);
        out.most_rows_back = out.most_rows_back.max(back);
        out.groups_held += 1;
    }
    out.sold_at_first_refusal = first_refusal.unwrap_or(house.sold());
    out.sold_at_end = house.sold();
    out.orphans_at_end = (0..venue.rows.len()).map(|r| house.orphans(r).len()).sum();
    out.usec_per_call = eval_usec_per_call(&mut r);
    let map: Vec<String> = r.hvals(event.replace("event:", "map:")).unwrap();
    let unsold: usize = map.iter().map(|s| s.matches('a').count()).sum();
    assert_eq!(unsold, out.seats, "holds never touch the sold state");
    out
}

/// The most seats groups of `count` could ever take in `venue`: every
/// row filled with whole blocks.
fn most_sellable(venue: &Venue, count: usize) -> usize {
    venue.rows.iter().map(|n| n / count * count).sum()
}

/// The sequences played: uniform sizes, and mixed sizes with and without
/// single buyers. With singles in the mix the end is always a full house
/// (a single fits any free seat), so mixed 2–8 is the one whose end shows
/// what stranded seats cost.
const SEQUENCES: [Groups; 5] = [
    Groups::Uniform(2),
    Groups::Uniform(4),
    Groups::Uniform(6),
    Groups::Mixed(1),
    Groups::Mixed(2),
];

/// Mixed sequences are played with this many seeds (uniform ones are the
/// same whatever the seed).
const MIXED_SEEDS: u64 = 10;

/// The outcomes of one sequence against one venue over its seeds.
pub struct Summary(pub Vec<Outcome>);

impl Summary {
    fn mean(&self, f: impl Fn(&Outcome) -> f64) -> f64 {
        self.0.iter().map(f).sum::<f64>() / self.0.len() as f64
    }

    fn lowest(&self, f: impl Fn(&Outcome) -> f64) -> f64 {
        self.0.iter().map(f).fold(f64::INFINITY, f64::min)
    }

    /// "mean%" for one run, "mean% (lowest%)" for several.
    fn percent(&self, sold: impl Fn(&Outcome) -> usize) -> String {
        let share = |o: &Outcome| o.percent(sold(o));
        let mean = self.mean(share);
        if self.0.len() == 1 {
            format!("{mean:.1}%")
        } else {
            format!("{mean:.1}% ({:.1}%)", self.lowest(share))
        }
    }

    fn count(&self, f: impl Fn(&Outcome) -> usize) -> String {
        let mean = self.mean(|o| f(o) as f64);
        if self.0.len() == 1 {
            format!("{mean}")
        } else {
            format!("{mean:.1}")
        }
    }

    fn row(&self, venue: &Venue, groups: Groups, script: &str) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} ({}) | {:.0} |",
            venue.name,
            groups.name(),
            script,
            self.count(|o| o.groups_held),
            self.percent(|o| o.sold_at_first_refusal),
            self.percent(|o| o.sold_at_end),
            self.count(|o| o.orphans_at_end),
            self.count(|o| o.orphans_created),
            self.count(|o| o.avoidable_orphans_created),
            self.count(|o| o.holds_moved_back),
            self.0.iter().map(|o| o.most_rows_back).max().unwrap_or(0),
            self.mean(|o| o.usec_per_call),
        )
    }
}

const TABLE_HEAD: &str = "\
| venue | groups | algorithm | groups held | sold at first refusal | sold at end | orphans at end | orphans created (avoidable) | holds moved back (most rows) | eval µs/call |
|---|---|---|---:|---:|---:|---:|---:|---:|---:|";

/// The targets for the packing choice, as failure messages.
pub fn target_failures(venue: &Venue, groups: Groups, o: &Outcome) -> Vec<String> {
    let what = format!("{} with {}", venue.name, groups.name());
    let mut failures = Vec::new();
    if o.avoidable_orphans_created > 0 {
        failures.push(format!(
            "{what}: {} orphans created where another block strands none",
            o.avoidable_orphans_created
        ));
    }
    match groups {
        Groups::Uniform(count) => {
            // Every seat a group of this size could use is sold; where the
            // size divides every row that is the whole house.
            let most = most_sellable(venue, count);
            if o.sold_at_first_refusal != most {
                failures.push(format!(
                    "{what}: sold {} at the first refusal, {most} were sellable",
                    o.sold_at_first_refusal
                ));
            }
        }
        Groups::Mixed(_) => {
            if o.percent(o.sold_at_end) < 98.0 {
                failures.push(format!(
                    "{what}: {:.1}% sold at the end, under 98%",
                    o.percent(o.sold_at_end)
                ));
            }
        }
    }
    failures
}

/// Runs `script` (hold_best's text) for `count` seats on `event` as hold
/// `id`, `adjacent` or not: the one place the simulator and the tests spell
/// hold_best's arguments.
pub fn hold_best_with(
    r: &mut redis::Connection,
    script: &str,
    event: &str,
    id: &str,
    count: usize,
    adjacent: bool,
) -> Vec<String> {
    let args: Vec<String> = [id, "hash", "600000", "0"]
        .iter()
        .map(|s| s.to_string())
        .chain([
            count.to_string(),
            if adjacent { "1" } else { "0" }.to_owned(),
        ])
        .collect();
    eval_event_script(r, script, event, &args)
}

/// Plays every venue and sequence with each of `scripts` (name, hold_best's
/// text) on one fresh redis-server, calling `each` with every summary, and
/// returns the table (markdown, one row per venue, sequence and script).
pub fn play_all(
    scripts: &[(&str, String)],
    mut each: impl FnMut(&Venue, Groups, &str, &Summary),
) -> String {
    let redis = RedisServer::start();
    let mut table = format!("{TABLE_HEAD}\n");
    for venue in venues() {
        for groups in SEQUENCES {
            let seeds = match groups {
                Groups::Uniform(_) => 1,
                Groups::Mixed(_) => MIXED_SEEDS,
            };
            for (name, script) in scripts {
                let summary = Summary(
                    (0..seeds)
                        .map(|seed| simulate(&redis, &venue, groups, (name, script), seed))
                        .collect(),
                );
                writeln!(table, "{}", summary.row(&venue, groups, name)).unwrap();
                each(&venue, groups, name, &summary);
            }
        }
    }
    table
}
