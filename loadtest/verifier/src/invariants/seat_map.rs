//! The seat map's derived state against the seat locks, the authority:
//! `map:{E}` (sold state per row) and `held:{E}:<row>` (live holds by
//! expiry) exist only to make reads fast, so they must say what the locks say.

use super::{violation, Index, Invariant, Violation};
use crate::state::EventState;

/// Checks the sold rows and the held index of `state` against its locks.
pub(super) fn matches_locks(
    state: &EventState,
    index: &Index,
    slack_ms: i64,
    out: &mut Vec<Violation>,
) {
    if state.map_rows.is_empty() {
        return; // an event without a map, like the default event
    }
    let map = Invariant::SeatMapMatchesLocks;
    for (label, row) in &state.map_rows {
        for (i, shown) in row.chars().enumerate() {
            let seat = format!("{label}-{}", i + 1);
            let marker = index.lock_value(&seat);
            let sold = marker.starts_with("booked:");
            let wrong = match shown {
                'b' => !sold,
                'a' => sold,
                _ => true,
            };
            if wrong {
                let detail =
                    format!("the map shows seat {seat} as {shown:?}, but the seat holds {marker}");
                violation(out, map, detail);
            }
        }
    }
    for lock in &state.locks {
        let on_map = lock.seat.rsplit_once('-').is_some_and(|(label, n)| {
            let n: usize = n.parse().unwrap_or(0);
            state
                .map_rows
                .get(label)
                .is_some_and(|row| (1..=row.len()).contains(&n))
        });
        if !on_map {
            violation(
                out,
                map,
                format!("seat {} has a lock but is not on the map", lock.seat),
            );
        }
        if !lock.value.starts_with("hold:") || lock.pttl_ms < 0 {
            continue;
        }
        let ends = lock.read_at_ms + lock.pttl_ms;
        match state.held_index.get(&lock.seat) {
            None => {
                let detail = format!(
                    "seat {} is held ({}) but not in the held index",
                    lock.seat, lock.value
                );
                violation(out, map, detail);
            }
            Some(&score) if (score - ends).abs() > slack_ms => {
                let detail = format!(
                    "the held index ends seat {}'s hold {} ms from its lock's TTL",
                    lock.seat,
                    score - ends
                );
                violation(out, map, detail);
            }
            Some(_) => {}
        }
    }
    for (seat, &score) in &state.held_index {
        let left_ms = score - state.held_index_read_at_ms;
        let marker = index.lock_value(seat);
        if left_ms > slack_ms && !marker.starts_with("hold:") {
            let detail = format!("the held index shows seat {seat} held for {left_ms} ms more, but the seat holds {marker}");
            violation(out, map, detail);
        }
    }
}
