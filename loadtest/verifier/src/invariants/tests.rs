use super::*;

const NOW: i64 = 1_700_000_000_000;
const DAY_MS: i64 = 86_400_000;
const SLACK: i64 = 1_000;

fn lock(seat: &str, value: &str, pttl_ms: i64) -> SeatLock {
    SeatLock {
        seat: seat.into(),
        value: value.into(),
        pttl_ms,
        read_at_ms: NOW,
    }
}

fn booking(id: &str, seats: &[&str], status: &str, hold_id: &str) -> Booking {
    Booking {
        id: id.into(),
        seats: seats.iter().map(|s| s.to_string()).collect(),
        status: status.into(),
        hold_id: hold_id.into(),
    }
}

fn hold(id: &str, seats: &[&str], status: &str, ends_in_ms: i64, booking_id: &str) -> Hold {
    Hold {
        id: id.into(),
        seats: seats.iter().map(|s| s.to_string()).collect(),
        status: status.into(),
        expires_at_ms: NOW + ends_in_ms,
        booking_id: booking_id.into(),
        pttl_ms: ends_in_ms.max(0) + DAY_MS,
        read_at_ms: NOW,
    }
}

/// A state with one of everything a run leaves: a direct booking, a live
/// hold, a confirmed, a released and an expired hold, a cancelled booking
/// and a request lock mid-booking.
fn clean() -> EventState {
    EventState {
        event: "gala".into(),
        locks: vec![
            lock("A-1", "booked:b1", -1),
            lock("A-2", "booked:b1", -1),
            lock("B-1", "hold:h1", 30_000),
            lock("C-1", "booked:b2", -1),
            lock("G-1", "2d1c0a", 3_000),
        ],
        bookings: vec![
            booking("b1", &["A-1", "A-2"], "booked", ""),
            booking("b2", &["C-1"], "booked", "h2"),
            booking("b3", &["F-1"], "cancelled", ""),
        ],
        live_bookings: ["b1".to_string(), "b2".to_string()].into(),
        holds: vec![
            hold("h1", &["B-1"], "held", 30_000, ""),
            hold("h2", &["C-1"], "confirmed", 10_000, "b2"),
            hold("h3", &["D-1"], "released", 10_000, ""),
            hold("h4", &["E-1"], "held", -5_000, ""),
        ],
        map_rows: [
            ("A", "bba"),
            ("B", "a"),
            ("C", "b"),
            ("D", "a"),
            ("E", "a"),
            ("F", "a"),
            ("G", "a"),
        ]
        .map(|(label, row)| (label.to_string(), row.to_string()))
        .into(),
        held_index: [("B-1", NOW + 30_000), ("E-1", NOW - 5_000)]
            .map(|(seat, score)| (seat.to_string(), score))
            .into(),
        held_index_read_at_ms: NOW,
        waiting_room: Default::default(),
    }
}

const CLEAN_REPORT: Reported = Reported {
    bookings: 3,
    seats: 4,
    holds: 4,
    tickets: 0,
};

fn violations(state: &EventState, reported: Reported) -> Vec<(Invariant, String)> {
    check(state, reported, SLACK)
        .violations
        .into_iter()
        .map(|v| (v.invariant, v.detail))
        .collect()
}

/// Asserts exactly one violation, of `invariant`, whose text contains `needle`.
fn assert_one(state: &EventState, reported: Reported, invariant: Invariant, needle: &str) {
    let found = violations(state, reported);
    assert!(
        found
            .iter()
            .any(|(i, d)| *i == invariant && d.contains(needle)),
        "expected a {invariant:?} violation containing {needle:?}, got {found:#?}"
    );
    assert!(found.iter().all(|(i, _)| *i == invariant), "{found:#?}");
}

#[test]
fn a_clean_run_passes_and_is_counted() {
    let result = check(&clean(), CLEAN_REPORT, SLACK);
    assert_eq!(result.violations, []);
    let stored = Stored {
        bookings: 3,
        seats: 4,
        sold_seats: 3,
        holds: 4,
        live_holds: 1,
        tickets: 0,
    };
    assert_eq!(result.stored, stored);
    assert_eq!(result.event, "gala");
}

#[test]
fn a_seat_in_two_live_bookings_is_a_double_booking() {
    let mut state = clean();
    state.bookings.push(booking("b9", &["A-1"], "booked", ""));
    state.live_bookings.insert("b9".into());
    let reported = Reported {
        bookings: 4,
        seats: 5,
        ..CLEAN_REPORT
    };
    assert_one(
        &state,
        reported,
        Invariant::NoDoubleBooking,
        "seat A-1 is sold to 2 bookings: b1, b9",
    );
    assert_one(
        &state,
        reported,
        Invariant::NoDoubleBooking,
        "booking b9 sold seat A-1, but the seat holds booked:b1",
    );
}

#[test]
fn sold_markers_must_be_permanent_and_name_their_live_booking() {
    let mut state = clean();
    state.locks[0].pttl_ms = 4_000;
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::NoDoubleBooking,
        "sold seat A-1 expires in 4000 ms",
    );

    let mut state = clean();
    state.locks.push(lock("Z-1", "booked:ghost", -1));
    state.map_rows.insert("Z".into(), "b".into());
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::NoDoubleBooking,
        "seat Z-1 is marked sold to ghost, which has no record",
    );

    let mut state = clean();
    state.locks.push(lock("F-1", "booked:b3", -1));
    state.map_rows.insert("F".into(), "b".into());
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::NoDoubleBooking,
        "which is cancelled",
    );

    let mut state = clean();
    state.locks[1].value = "hold:h1".into();
    let found = violations(&state, CLEAN_REPORT);
    assert!(
        found
            .iter()
            .any(|(_, d)| d.contains("booking b1 sold seat A-2, but the seat holds hold:h1")),
        "{found:#?}"
    );
}

#[test]
fn a_201_count_that_differs_from_the_store_fails_both_ways() {
    let more = Reported {
        bookings: 4,
        ..CLEAN_REPORT
    };
    assert_one(
        &clean(),
        more,
        Invariant::AnswersMatchStore,
        "201s announced 4 bookings, Redis stores 3 (a 201 for something never stored)",
    );
    let fewer = Reported {
        seats: 3,
        ..CLEAN_REPORT
    };
    assert_one(
        &clean(),
        fewer,
        Invariant::AnswersMatchStore,
        "201s announced 3 booked seats, Redis stores 4 (a 201 lost",
    );
    let holds = Reported {
        holds: 0,
        ..CLEAN_REPORT
    };
    assert_one(
        &clean(),
        holds,
        Invariant::AnswersMatchStore,
        "201s announced 0 holds, Redis stores 4",
    );
}

#[test]
fn the_live_set_must_match_the_records() {
    let mut state = clean();
    state.live_bookings.remove("b1");
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::AnswersMatchStore,
        "booking b1 (booked) is live but missing",
    );

    let mut state = clean();
    state.live_bookings.insert("b3".into());
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::AnswersMatchStore,
        "booking b3 (cancelled) is cancelled but still",
    );

    let mut state = clean();
    state.live_bookings.insert("nobody".into());
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::AnswersMatchStore,
        "lists booking nobody, which has no record",
    );
}

#[test]
fn confirmed_holds_and_their_bookings_must_name_each_other() {
    let mut state = clean();
    state.holds[1].booking_id = "b1".into();
    let found = violations(&state, CLEAN_REPORT);
    assert!(
        found
            .iter()
            .any(|(_, d)| d.contains("hold h2 was confirmed into booking \"b1\"")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|(_, d)| d.contains("booking b2 names hold h2, which was not confirmed into it")),
        "{found:#?}"
    );
}

#[test]
fn a_hold_without_ttl_is_caught() {
    let mut state = clean();
    state.locks[2].pttl_ms = -1;
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::HoldsEndAtTheirTtl,
        "seat B-1 is held by h1 with no TTL",
    );

    let mut state = clean();
    state.holds[0].pttl_ms = -1;
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::HoldsEndAtTheirTtl,
        "hold record h1 has no TTL",
    );
}

#[test]
fn a_hold_lock_living_past_expires_at_is_caught_within_the_slack() {
    let mut state = clean();
    state.locks[2].pttl_ms = 30_000 + SLACK;
    assert_eq!(violations(&state, CLEAN_REPORT), []);
    state.locks[2].pttl_ms = 30_000 + SLACK + 1;
    state
        .held_index
        .insert("B-1".into(), NOW + 30_000 + SLACK + 1);
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::HoldsEndAtTheirTtl,
        "seat B-1 stays held by h1 1001 ms past its expiresAt",
    );

    let mut state = clean();
    state.locks.push(lock("E-1", "hold:h4", 2_000));
    state.held_index.insert("E-1".into(), NOW + 2_000);
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::HoldsEndAtTheirTtl,
        "seat E-1 stays held by h4 7000 ms past",
    );
}

#[test]
fn ended_holds_must_not_hold_seats_and_live_ones_must_keep_them() {
    let mut state = clean();
    state.locks.push(lock("D-1", "hold:h3", 5_000));
    state.held_index.insert("D-1".into(), NOW + 5_000);
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::HoldsEndAtTheirTtl,
        "seat D-1 is still held by h3, which is released",
    );

    let mut state = clean();
    state.locks.remove(2);
    state.held_index.remove("B-1");
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::HoldsEndAtTheirTtl,
        "hold h1 lost seat B-1 30000 ms before its end (the seat holds nothing)",
    );

    let mut state = clean();
    state.locks.push(lock("Q-1", "hold:nobody", 5_000));
    state.map_rows.insert("Q".into(), "a".into());
    state.held_index.insert("Q-1".into(), NOW + 5_000);
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::HoldsEndAtTheirTtl,
        "seat Q-1 is held by nobody, which has no record",
    );
}

#[test]
fn a_hold_about_to_end_may_already_have_let_go() {
    let mut state = clean();
    state.holds[0].expires_at_ms = NOW + SLACK;
    state.held_index.insert("B-1".into(), NOW + SLACK);
    state.locks.remove(2);
    assert_eq!(violations(&state, CLEAN_REPORT), []);
}

#[test]
fn request_locks_must_expire_within_five_seconds() {
    let mut state = clean();
    state.locks[4].pttl_ms = -1;
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::HoldsEndAtTheirTtl,
        "seat G-1 has a request lock with TTL -1 ms",
    );
    state.locks[4].pttl_ms = REQUEST_LOCK_TTL_MS + SLACK + 1;
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::HoldsEndAtTheirTtl,
        "request lock with TTL 6001 ms",
    );
}

#[test]
fn violations_come_in_invariant_order() {
    let mut state = clean();
    state.locks[2].pttl_ms = -1;
    state.locks[0].pttl_ms = 10;
    let found = violations(&state, Reported::default());
    let order: Vec<Invariant> = found.iter().map(|(i, _)| *i).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(order.first(), Some(&Invariant::NoDoubleBooking));
    assert_eq!(order.last(), Some(&Invariant::HoldsEndAtTheirTtl));
}

#[test]
fn the_map_must_show_sold_seats_as_the_locks_say() {
    let mut state = clean();
    state.map_rows.insert("A".into(), "bab".into());
    let found = violations(&state, CLEAN_REPORT);
    assert!(
        found
            .iter()
            .any(|(_, d)| d == "the map shows seat A-2 as 'a', but the seat holds booked:b1"),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|(_, d)| d == "the map shows seat A-3 as 'b', but the seat holds nothing"),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .all(|(i, _)| *i == Invariant::SeatMapMatchesLocks),
        "{found:#?}"
    );

    let mut state = clean();
    state.map_rows.remove("G");
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::SeatMapMatchesLocks,
        "seat G-1 has a lock but is not on the map",
    );
}

#[test]
fn the_held_index_must_show_live_holds_as_the_locks_say() {
    let mut state = clean();
    state.held_index.remove("B-1");
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::SeatMapMatchesLocks,
        "seat B-1 is held (hold:h1) but not in the held index",
    );

    let mut state = clean();
    state
        .held_index
        .insert("B-1".into(), NOW + 30_000 + SLACK + 1);
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::SeatMapMatchesLocks,
        "the held index ends seat B-1's hold 1001 ms from its lock's TTL",
    );

    let mut state = clean();
    state.held_index.insert("C-1".into(), NOW + 60_000);
    assert_one(
        &state,
        CLEAN_REPORT,
        Invariant::SeatMapMatchesLocks,
        "the held index shows seat C-1 held for 60000 ms more, but the seat holds booked:b2",
    );
}

#[test]
fn an_event_without_a_map_skips_the_map_checks() {
    let mut state = clean();
    state.map_rows.clear();
    state.held_index.clear();
    assert_eq!(violations(&state, CLEAN_REPORT), []);
}
