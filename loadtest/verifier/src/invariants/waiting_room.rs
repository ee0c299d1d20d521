//! A waiting room's rules, on what Redis holds after the run: every join
//! answered 201 is one stored ticket; turns follow arrival order; no
//! minute admits more than `admitPerMinute`; and every hold or direct
//! booking on the event was made with a ticket's access, after its turn
//! and before the access ran out. Turns and access times are both on
//! Redis's clock, so those checks are exact.

use std::collections::HashMap;

use super::{violation, Counting, Invariant, Violation};
use crate::report::Reported;
use crate::state::{EventState, Ticket};

/// One minute in ms: the window `admitPerMinute` counts over.
const MINUTE_MS: i64 = 60_000;

/// Checks the waiting room of `state` (nothing for an event without one,
/// beyond refusing tickets it cannot have).
pub(super) fn admits_in_order_at_its_rate(
    state: &EventState,
    reported: Reported,
    counting: Counting,
    slack_ms: i64,
    out: &mut Vec<Violation>,
) {
    let rule = Invariant::WaitingRoom;
    let room = &state.waiting_room;
    let Some((rate, minutes)) = room.settings else {
        if reported.tickets > 0 || !room.tickets.is_empty() {
            let detail = format!(
                "{} joins answered 201 and {} tickets stored for an event without a waiting room",
                reported.tickets,
                room.tickets.len()
            );
            violation(out, rule, detail);
        }
        return;
    };
    let stored = room.tickets.len() as u64;
    let counts_agree = match counting {
        Counting::Exact => reported.tickets == stored,
        Counting::AtLeast => reported.tickets <= stored,
    };
    if !counts_agree {
        let detail = format!(
            "{} joins answered 201, {stored} tickets stored",
            reported.tickets
        );
        violation(out, rule, detail);
    }
    arrival_order(&room.tickets, room.arrivals, out);
    at_most_the_rate(&room.tickets, rate, out);

    for record in &room.without_access {
        violation(out, rule, format!("{record} was made without access"));
    }
    let tickets: HashMap<&str, &Ticket> = room.tickets.iter().map(|t| (t.id.as_str(), t)).collect();
    let access_ms = minutes as i64 * MINUTE_MS;
    for access in &room.accesses {
        let record = &access.record;
        let Some(ticket) = tickets.get(access.ticket_id.as_str()) else {
            let detail = format!(
                "{record} names ticket {}, which has no record",
                access.ticket_id
            );
            violation(out, rule, detail);
            continue;
        };
        if access.at_ms < ticket.turn_at_ms {
            let early = ticket.turn_at_ms - access.at_ms;
            let detail = format!(
                "{record} used ticket {} {early} ms before its turn",
                ticket.id
            );
            violation(out, rule, detail);
        }
        let late = access.at_ms - (ticket.turn_at_ms + access_ms);
        if late >= slack_ms {
            let detail = format!(
                "{record} used ticket {} {late} ms after its access ended",
                ticket.id
            );
            violation(out, rule, detail);
        }
    }
}

/// Positions are 1..=arrivals, each once, and later arrivals never join or
/// get their turn before earlier ones.
fn arrival_order(tickets: &[Ticket], arrivals: u64, out: &mut Vec<Violation>) {
    let rule = Invariant::WaitingRoom;
    if tickets.len() as u64 != arrivals {
        let detail = format!(
            "{arrivals} arrivals counted, {} tickets stored",
            tickets.len()
        );
        violation(out, rule, detail);
    }
    for (i, ticket) in tickets.iter().enumerate() {
        if ticket.position != i as u64 + 1 {
            let detail = format!(
                "ticket {} has position {} where {} was due (a gap or a repeat)",
                ticket.id,
                ticket.position,
                i + 1
            );
            violation(out, rule, detail);
            break;
        }
        if ticket.turn_at_ms < ticket.joined_at_ms {
            let detail = format!("ticket {} was admitted before it joined", ticket.id);
            violation(out, rule, detail);
        }
    }
    for pair in tickets.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        if later.joined_at_ms < earlier.joined_at_ms {
            let detail = format!(
                "position {} joined {} ms before position {}",
                later.position,
                earlier.joined_at_ms - later.joined_at_ms,
                earlier.position
            );
            violation(out, rule, detail);
        }
        if later.turn_at_ms < earlier.turn_at_ms {
            let detail = format!(
                "position {} was admitted {} ms before position {}",
                later.position,
                earlier.turn_at_ms - later.turn_at_ms,
                earlier.position
            );
            violation(out, rule, detail);
        }
    }
}

/// In any 60 s window at most `rate` turns: the turn `rate` places later
/// is at least a minute after.
fn at_most_the_rate(tickets: &[Ticket], rate: u64, out: &mut Vec<Violation>) {
    let rate = rate as usize;
    let mut turns: Vec<i64> = tickets.iter().map(|t| t.turn_at_ms).collect();
    turns.sort_unstable();
    let crowded = (0..turns.len().saturating_sub(rate))
        .filter(|&i| turns[i + rate] - turns[i] < MINUTE_MS)
        .count();
    if crowded > 0 {
        let detail =
            format!("{crowded} times more than {rate} tickets were admitted within one minute");
        violation(out, Invariant::WaitingRoom, detail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Access, WaitingRoomState};

    const T0: i64 = 1_700_000_000_000;

    /// Four tickets at 60 a minute, joined at once; ticket 1 held, ticket
    /// 3 booked directly, each during its access.
    fn queued() -> EventState {
        let tickets = (0..4)
            .map(|i| Ticket {
                id: format!("t{}", i + 1),
                position: i + 1,
                joined_at_ms: T0 + i as i64,
                turn_at_ms: T0 + i as i64 * 1000,
            })
            .collect();
        EventState {
            event: "onsale".into(),
            waiting_room: WaitingRoomState {
                settings: Some((60, 2)),
                arrivals: 4,
                tickets,
                accesses: vec![
                    Access {
                        record: "hold:h1".into(),
                        ticket_id: "t1".into(),
                        at_ms: T0 + 10,
                    },
                    Access {
                        record: "booking:b1".into(),
                        ticket_id: "t3".into(),
                        at_ms: T0 + 2_500,
                    },
                ],
                without_access: vec![],
            },
            ..EventState::default()
        }
    }

    fn reported(tickets: u64) -> Reported {
        Reported {
            tickets,
            ..Reported::default()
        }
    }

    fn found(state: &EventState, tickets: u64) -> Vec<String> {
        let mut out = Vec::new();
        admits_in_order_at_its_rate(state, reported(tickets), Counting::Exact, 1_000, &mut out);
        out.into_iter().map(|v| v.detail).collect()
    }

    fn assert_found(state: &EventState, needle: &str) {
        let all = found(state, 4);
        assert!(
            all.iter().any(|d| d.contains(needle)),
            "{needle:?} not in {all:?}"
        );
    }

    #[test]
    fn a_clean_queue_passes() {
        assert_eq!(found(&queued(), 4), Vec::<String>::new());
        assert_eq!(found(&EventState::default(), 0), Vec::<String>::new());
    }

    #[test]
    fn counts_must_match() {
        assert!(found(&queued(), 5)[0].contains("5 joins answered 201, 4 tickets stored"));
        let mut state = queued();
        state.waiting_room.arrivals = 5;
        assert_found(&state, "5 arrivals counted");
        assert!(found(&EventState::default(), 2)[0].contains("without a waiting room"));
    }

    #[test]
    fn admission_out_of_order_is_caught() {
        let mut state = queued();
        state.waiting_room.tickets[2].turn_at_ms = T0 + 500;
        assert_found(&state, "position 3 was admitted 500 ms before position 2");
        let mut state = queued();
        state.waiting_room.tickets[1].position = 3;
        assert_found(&state, "a gap or a repeat");
    }

    #[test]
    fn admission_ahead_of_the_rate_is_caught() {
        let mut state = queued();
        state.waiting_room.settings = Some((2, 2));
        assert_found(
            &state,
            "more than 2 tickets were admitted within one minute",
        );
    }

    #[test]
    fn holds_without_access_or_outside_it_are_caught() {
        let mut state = queued();
        state.waiting_room.without_access.push("hold:h9".into());
        assert_found(&state, "hold:h9 was made without access");
        let mut state = queued();
        state.waiting_room.accesses[1].at_ms = T0 + 1_500;
        assert_found(&state, "booking:b1 used ticket t3 500 ms before its turn");
        let mut state = queued();
        state.waiting_room.accesses[0].at_ms = T0 + 125_000;
        assert_found(
            &state,
            "hold:h1 used ticket t1 5000 ms after its access ended",
        );
        let mut state = queued();
        state.waiting_room.accesses[0].ticket_id = "t7".into();
        assert_found(&state, "names ticket t7, which has no record");
    }
}
