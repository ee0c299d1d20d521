//! An event's seat map: rows with a label and a seat count, so row `A` with
//! 30 seats has seats `A-1` … `A-30`. Validated here before anything is
//! written; the Lua scripts read the same rows back from the event record.

use serde::{Deserialize, Serialize};

use crate::ids::check_row_label;

/// The most seats one event may have.
pub const MAX_SEATS: u32 = 100_000;

/// The most rows one event may have.
pub const MAX_ROWS: usize = 2_000;

/// One row of the map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// The row's label, e.g. `A`.
    pub label: String,
    /// How many seats it has, numbered from 1.
    #[serde(deserialize_with = "crate::http::body::whole_number")]
    pub seats: u32,
}

/// Checks rows for an event and returns the total seat count.
pub fn validate(rows: &[Row]) -> Result<u32, String> {
    if rows.is_empty() {
        return Err("an event needs at least one row".to_owned());
    }
    if rows.len() > MAX_ROWS {
        return Err(format!("an event may have at most {MAX_ROWS} rows"));
    }
    let mut labels = std::collections::HashSet::new();
    let mut total: u32 = 0;
    for row in rows {
        check_row_label(&row.label).map_err(|why| format!("row label {:?}: {why}", row.label))?;
        if !labels.insert(row.label.as_str()) {
            return Err(format!("row label {:?} appears twice", row.label));
        }
        if row.seats == 0 {
            return Err(format!("row {:?} has no seats", row.label));
        }
        total = total.saturating_add(row.seats);
        if total > MAX_SEATS {
            return Err(format!("an event may have at most {MAX_SEATS} seats"));
        }
    }
    Ok(total)
}

/// The rows as the event record stores them: `[["A",30],["B",28]]`.
pub fn to_record(rows: &[Row]) -> String {
    let pairs: Vec<(&str, u32)> = rows.iter().map(|r| (r.label.as_str(), r.seats)).collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".to_owned())
}

/// Seat states in the map: one character per seat.
pub const LEGEND: [(&str, &str); 3] = [("a", "available"), ("h", "held"), ("b", "booked")];

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, seats: u32) -> Row {
        Row {
            label: label.into(),
            seats,
        }
    }

    #[test]
    fn counts_seats_of_valid_rows() {
        assert_eq!(validate(&[row("A", 30), row("B", 28)]), Ok(58));
        assert_eq!(
            to_record(&[row("A", 30), row("B", 28)]),
            r#"[["A",30],["B",28]]"#
        );
    }

    #[test]
    fn refuses_bad_maps() {
        assert!(validate(&[]).is_err());
        assert!(validate(&[row("A", 0)]).is_err());
        assert!(validate(&[row("A", 1), row("A", 1)]).is_err());
        assert!(validate(&[row("A-1", 1)]).is_err());
        assert!(validate(&[row("{x}", 1)]).is_err());
        assert!(validate(&[row("A", MAX_SEATS + 1)]).is_err());
        assert!(validate(&[row("A", u32::MAX), row("B", u32::MAX)]).is_err());
        assert_eq!(validate(&[row("A", MAX_SEATS)]), Ok(MAX_SEATS));
        let many: Vec<Row> = (0..=MAX_ROWS).map(|i| row(&format!("R{i}"), 1)).collect();
        assert!(validate(&many).is_err());
    }
}
