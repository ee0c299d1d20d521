//! Wall-clock time for timestamps in answers (`expiresAt`, `createdAt`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last millisecond RFC 3339 can write (its years have four digits):
/// 9999-12-31T23:59:59.999Z.
const MAX_RFC3339_MILLIS: u64 = 253_402_300_799_999;

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// RFC 3339 UTC text for a Unix time in milliseconds, always with three
/// fractional digits and `Z`, e.g. `2026-11-26T00:14:20.123Z` (clients and
/// stored idempotent answers depend on that exact form). Times past the
/// year 9999, which only a damaged record could hold, are written as its
/// last millisecond rather than as text that is not RFC 3339.
pub fn rfc3339(millis: u64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(millis.min(MAX_RFC3339_MILLIS));
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1), "1970-01-01T00:00:00.001Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_652_060_123), "2026-11-26T00:14:20.123Z");
        assert_eq!(rfc3339(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
    }

    #[test]
    fn keeps_millisecond_precision_and_z() {
        for millis in [1_795_652_060_000, 1_795_652_060_010, 1_795_652_060_999] {
            let text = rfc3339(millis);
            assert_eq!(text.len(), "2026-11-26T00:14:20.123Z".len(), "{text}");
            assert!(text.ends_with('Z'), "{text}");
        }
        assert_eq!(rfc3339(1_795_652_060_010), "2026-11-26T00:14:20.010Z");
    }

    #[test]
    fn never_panics_past_the_year_9999() {
        assert_eq!(rfc3339(MAX_RFC3339_MILLIS), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(MAX_RFC3339_MILLIS + 1), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59.999Z");
    }
}
