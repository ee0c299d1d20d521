use super::*;
use crate::state::{Booking, SeatLock};

fn lock(seat: &str, value: &str) -> SeatLock {
    SeatLock {
        seat: seat.into(),
        value: value.into(),
        pttl_ms: -1,
        read_at_ms: 0,
    }
}

fn booking(id: &str, seats: &[&str], status: &str) -> Booking {
    Booking {
        id: id.into(),
        seats: seats.iter().map(|s| s.to_string()).collect(),
        status: status.into(),
        hold_id: String::new(),
    }
}

/// The new primary's state: b1 (A-1, A-2) live, b2 (B-1) cancelled,
/// b3 (C-1) live and never acknowledged (a 503 that was replicated).
fn state() -> EventState {
    EventState {
        event: "gala".into(),
        locks: vec![
            lock("A-1", "booked:b1"),
            lock("A-2", "booked:b1"),
            lock("C-1", "booked:b3"),
        ],
        bookings: vec![
            booking("b1", &["A-1", "A-2"], "booked"),
            booking("b2", &["B-1"], "cancelled"),
            booking("b3", &["C-1"], "booked"),
        ],
        live_bookings: ["b1".to_string(), "b3".to_string()].into(),
        ..EventState::default()
    }
}

const LEDGER: &str = r#"
{"kind":"booked","event":"gala","bookingId":"b1","seats":["A-1","A-2"]}
{"kind":"booked","event":"gala","bookingId":"b2","seats":["B-1"]}
{"kind":"cancelling","event":"gala","bookingId":"b2"}
{"kind":"cancelled","event":"gala","bookingId":"b2"}
"#;

fn answer(sent_ms: i64, took_ms: i64, status: u16) -> Answer {
    Answer {
        sent_ms,
        took_ms,
        status,
        name: "book".into(),
        write: true,
    }
}

fn calm() -> Writes {
    Writes {
        answers: vec![answer(1_000, 5, 201), answer(1_100, 5, 409)],
        gave_up: vec![],
    }
}

#[test]
fn parses_what_the_processor_records() {
    let ledger = Ledger::parse(LEDGER).unwrap();
    assert_eq!(ledger.booked.len(), 2);
    assert_eq!(ledger.booked[0].seats, ["A-1", "A-2"]);
    assert!(ledger.cancelled.contains(&("gala".into(), "b2".into())));
    assert_eq!(ledger.events(), BTreeSet::from(["gala".to_string()]));

    let writes = Writes::parse(
        "{\"t\":1000,\"took\":12,\"status\":201,\"name\":\"book_seats\",\"write\":true}\n\
         {\"t\":1001,\"took\":3,\"status\":200,\"name\":\"seat_map\",\"write\":false}\n\
         {\"gaveUp\":true,\"name\":\"confirm_named\",\"tries\":60,\"t\":9}\n",
    )
    .unwrap();
    assert_eq!(
        writes.answers[0],
        Answer {
            sent_ms: 1000,
            took_ms: 12,
            status: 201,
            name: "book_seats".into(),
            write: true
        }
    );
    assert!(!writes.answers[1].write);
    assert_eq!(writes.gave_up, ["confirm_named"]);

    for bad in [
        "{",
        r#"{"kind":"booked","event":"gala","bookingId":"b1"}"#,
        r#"{"kind":"sold","event":"gala","bookingId":"b1"}"#,
        r#"{"kind":"booked","event":"gala","bookingId":"b1","seats":[1]}"#,
    ] {
        assert!(Ledger::parse(bad).is_err(), "{bad}");
    }
    assert!(Writes::parse(r#"{"t":1,"status":201}"#).is_err());
}

#[test]
fn a_clean_failover_passes_with_extra_stored_bookings_allowed() {
    let ledger = Ledger::parse(LEDGER).unwrap();
    let outcome = check(&ledger, &calm(), &[state()]);
    assert_eq!(outcome.lost, []);
    assert_eq!(outcome.cancellations_lost, []);
    assert_eq!(outcome.sold_twice, []);
    assert_eq!(
        outcome.unacknowledged_stored, 1,
        "b3 was never answered 201"
    );
    assert!(outcome.passed());
    let text = render(&ledger, &calm(), &outcome);
    assert!(
        text.ends_with(
            "acknowledged bookings lost: 0\nseats sold twice: 0\nwrites unavailable: 0.00 s\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("stored bookings no 201 announced: 1"),
        "{text}"
    );
    assert!(text.contains("failover verdict: PASS"), "{text}");
}

#[test]
fn a_booking_missing_on_the_new_primary_is_lost() {
    let mut ledger = Ledger::parse(LEDGER).unwrap();
    ledger.booked.push(Acknowledged {
        event: "gala".into(),
        booking_id: "b9".into(),
        seats: vec!["D-1".into()],
    });
    let outcome = check(&ledger, &calm(), &[state()]);
    assert_eq!(outcome.lost.len(), 1);
    assert_eq!(outcome.lost[0].booking_id, "b9");
    assert_eq!(outcome.lost[0].detail, "not stored");
    assert!(!outcome.passed());
    let text = render(&ledger, &calm(), &outcome);
    assert!(
        text.contains("FAIL lost: gala booking b9: not stored"),
        "{text}"
    );
    assert!(text.contains("acknowledged bookings lost: 1\n"), "{text}");

    // An event the new primary knows nothing of loses its bookings too.
    let outcome = check(&ledger, &calm(), &[]);
    assert_eq!(outcome.lost.len(), 2, "{:?}", outcome.lost);
}

#[test]
fn a_lost_booking_whose_seat_sold_again_is_lost_and_sold_twice() {
    let ledger = Ledger::parse(LEDGER).unwrap();
    let mut state = state();
    // The failover lost b1; its seat A-2 was sold again to b4.
    state.bookings.retain(|b| b.id != "b1");
    state.locks = vec![lock("A-2", "booked:b4"), lock("C-1", "booked:b3")];
    state.bookings.push(booking("b4", &["A-2"], "booked"));
    let outcome = check(&ledger, &calm(), &[state]);
    assert_eq!(outcome.lost.len(), 1);
    assert_eq!(
        outcome.sold_twice,
        [SoldTwice {
            event: "gala".into(),
            seat: "A-2".into(),
            owners: vec!["b1".into(), "b4".into()],
        }]
    );
    let text = render(&ledger, &calm(), &outcome);
    assert!(text.contains("seats sold twice: 1\n"), "{text}");
    assert!(
        text.contains("sold twice: gala seat A-2 to b1, b4"),
        "{text}"
    );
}

#[test]
fn a_stored_booking_that_lost_its_seat_marker_is_lost() {
    let ledger = Ledger::parse(LEDGER).unwrap();
    let mut state = state();
    state.locks.retain(|l| l.seat != "A-1");
    let outcome = check(&ledger, &calm(), &[state.clone()]);
    assert_eq!(outcome.lost.len(), 1);
    assert_eq!(outcome.lost[0].detail, "seat A-1 holds nothing");

    state.bookings[0].status = "cancelled".into();
    let outcome = check(&ledger, &calm(), &[state]);
    assert_eq!(outcome.lost[0].detail, "stored as cancelled");
}

#[test]
fn two_live_bookings_of_one_seat_are_sold_twice() {
    let ledger = Ledger::parse(LEDGER).unwrap();
    let mut state = state();
    state.bookings.push(booking("b5", &["C-1"], "booked"));
    let outcome = check(&ledger, &calm(), &[state]);
    assert_eq!(outcome.lost, []);
    assert_eq!(outcome.sold_twice.len(), 1);
    assert_eq!(outcome.sold_twice[0].owners, ["b3", "b5"]);
    assert!(!outcome.passed());
}

#[test]
fn cancellations_answered_204_must_be_stored() {
    let ledger = Ledger::parse(LEDGER).unwrap();
    let mut state = state();
    state.bookings[1].status = "booked".into();
    let outcome = check(&ledger, &calm(), &[state]);
    assert_eq!(outcome.lost, []);
    assert_eq!(outcome.cancellations_lost.len(), 1);
    assert_eq!(
        outcome.cancellations_lost[0].detail,
        "cancelled (204) but stored as booked"
    );
    assert!(!outcome.passed());
}

#[test]
fn an_unanswered_cancellation_may_have_happened_or_not() {
    let mut ledger = Ledger::parse(LEDGER).unwrap();
    ledger.cancelled.clear();
    // b2 is stored cancelled, b1 (also being cancelled) still booked: both fine.
    ledger.cancelling.insert(("gala".into(), "b1".into()));
    let outcome = check(&ledger, &calm(), &[state()]);
    assert!(outcome.passed(), "{outcome:?}");
    // But the booking itself must still exist.
    let mut state = state();
    state.bookings.retain(|b| b.id != "b2");
    let outcome = check(&ledger, &calm(), &[state]);
    assert_eq!(outcome.lost.len(), 1);
    assert_eq!(outcome.lost[0].booking_id, "b2");
}

#[test]
fn the_window_runs_from_the_last_201_before_to_the_first_201_after_the_503s() {
    let mut writes = Writes {
        answers: vec![
            answer(1_000, 5, 201),
            answer(1_500, 5, 201),
            answer(1_600, 5, 409),
            answer(2_000, 3, 503),
            answer(2_500, 3, 201), // in between: neither end
            answer(3_900, 3, 503),
            answer(3_950, 10, 204),
            answer(4_100, 50, 201),
            answer(4_200, 5, 201),
        ],
        gave_up: vec![],
    };
    // A read answered 503 later does not stretch the window of writes.
    writes.answers.push(Answer {
        write: false,
        ..answer(9_000, 1, 503)
    });
    let w = writes.window().unwrap();
    assert_eq!((w.from_ms, w.to_ms), (1_500, Some(4_150)));
    assert_eq!(
        (w.first_503_ms, w.last_503_ms, w.answers_503),
        (2_000, 3_900, 2)
    );
    assert_eq!(w.seconds(), Some(2.65));
    let outcome = check(&Ledger::default(), &writes, &[]);
    assert!(outcome.passed(), "{outcome:?}");
    let text = render(&Ledger::default(), &writes, &outcome);
    assert!(text.ends_with("writes unavailable: 2.65 s\n"), "{text}");
    assert!(
        text.contains("503 answers: 2 sent from +1.00 s to +2.90 s; last 201 sent before them +0.50 s, first 201 answered after them +3.15 s"),
        "{text}"
    );

    // No 201 before the first 503: the window starts at that 503.
    writes.answers.retain(|a| a.sent_ms >= 2_000);
    assert_eq!(writes.window().unwrap().from_ms, 2_000);

    // Writes that never come back fail the run.
    writes.answers.retain(|a| a.sent_ms <= 3_950);
    let w = writes.window().unwrap();
    assert_eq!(w.to_ms, None);
    let outcome = check(&Ledger::default(), &writes, &[]);
    assert!(!outcome.passed());
    let text = render(&Ledger::default(), &writes, &outcome);
    assert!(text.ends_with("writes unavailable: >1.96 s\n"), "{text}");
}

#[test]
fn a_slow_answer_a_500_or_a_request_given_up_fails() {
    let ledger = Ledger::parse(LEDGER).unwrap();
    let mut writes = calm();
    writes.answers.push(answer(2_000, 2_000, 201));
    let outcome = check(&ledger, &writes, &[state()]);
    assert_eq!(outcome.slow.len(), 1);
    assert!(!outcome.passed());
    let text = render(&ledger, &writes, &outcome);
    assert!(text.contains("1 took 2 s or more"), "{text}");
    assert!(
        text.contains("FAIL slow: book answered 201 after 2000 ms"),
        "{text}"
    );

    let mut writes = calm();
    writes.answers.push(answer(2_000, 5, 500));
    let outcome = check(&ledger, &writes, &[state()]);
    assert_eq!(outcome.unexpected.len(), 1);
    assert!(!outcome.passed());

    let mut writes = calm();
    writes.gave_up.push("confirm_named".into());
    let outcome = check(&ledger, &writes, &[state()]);
    assert_eq!(outcome.gave_up, 1);
    assert!(!outcome.passed());
    let text = render(&ledger, &writes, &outcome);
    assert!(
        text.contains("FAIL given up: confirm_named still 503 at the retry cap"),
        "{text}"
    );
}
