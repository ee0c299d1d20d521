//! The seat list of a request body (`"seats": [...]`), checked the same way
//! for holds and direct bookings. It lives in its own module so that those
//! handlers import it rather than each other.

use std::collections::HashSet;

use super::MAX_SEATS_PER_REQUEST;
use crate::http::body::invalid_body;
use crate::http::{Kind, Problem};
use crate::ids::SeatId;

/// Checks a list of seat ids from a body: 1 to 100, valid, no duplicates.
pub fn seat_list(seats: &[String]) -> Result<Vec<SeatId>, Problem> {
    if seats.is_empty() || seats.len() > MAX_SEATS_PER_REQUEST {
        return Err(invalid_body("seats must list 1 to 100 seat ids"));
    }
    let mut seen = HashSet::new();
    seats
        .iter()
        .map(|s| {
            let seat = SeatId::new(s).map_err(|why| {
                Problem::new(
                    Kind::InvalidSeatId,
                    format!("seat id {s:?} is not valid: {why}"),
                )
            })?;
            if !seen.insert(seat.clone()) {
                return Err(invalid_body(&format!("seat {seat} is listed twice")));
            }
            Ok(seat)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn seat_lists_are_checked() {
        assert_eq!(seat_list(&strings(&["A-1", "A-2"])).unwrap().len(), 2);
        assert!(seat_list(&[]).is_err());
        assert!(seat_list(&strings(&["A-1", "A-1"])).is_err());
        assert!(seat_list(&strings(&["A-1", "{x}"])).is_err());
        let many: Vec<String> = (1..=101).map(|n| format!("A-{n}")).collect();
        assert!(seat_list(&many).is_err());
    }
}
