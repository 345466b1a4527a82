//! The one date grammar of Mamori: what a person writes for "when".
//!
//! Policies (pin expiry), device patch levels, evidence reports and every
//! `--at` of the command line read dates with these functions, so that one
//! string means the same instant everywhere:
//!
//! - `YYYY-MM-DD` is a calendar date; where an instant is needed it is 00:00
//!   UTC of that day (TrustKit's reading of `TSKExpirationDate`);
//! - an RFC 3339 timestamp (`2027-01-01T09:00:00+09:00`) is taken as written.
//!
//! Nothing else is accepted: no surrounding spaces, no single-digit months, no
//! local time without an offset. Importers of other tools' formats keep those
//! tools' own grammars (Android's lenient `SimpleDateFormat`, for one) because
//! an audit must read a file the way the platform does, not the way Mamori
//! would like it written.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, UtcOffset};

/// Why a text is not a date or timestamp of this grammar.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Neither `YYYY-MM-DD` nor RFC 3339.
    #[error("{text:?} is not a date (YYYY-MM-DD) or an RFC 3339 timestamp")]
    Malformed {
        /// The text as given.
        text: String,
    },
    /// Shaped like a date, but no such day exists (`2026-02-30`, month 13).
    #[error("{text:?} is not a day of the calendar")]
    NoSuchDay {
        /// The text as given.
        text: String,
    },
}

/// Parses a calendar date, strictly `YYYY-MM-DD` (four-digit year).
pub fn parse_date(text: &str) -> Result<Date, DateError> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(DateError::Malformed {
            text: text.to_owned(),
        });
    }
    let num = |r: core::ops::Range<usize>| -> u16 {
        b[r].iter().fold(0, |n, c| n * 10 + u16::from(c - b'0'))
    };
    let no_such_day = || DateError::NoSuchDay {
        text: text.to_owned(),
    };
    let month = u8::try_from(num(5..7))
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(no_such_day)?;
    let day = u8::try_from(num(8..10)).map_err(|_| no_such_day())?;
    Date::from_calendar_date(i32::from(num(0..4)), month, day).map_err(|_| no_such_day())
}

/// Parses an instant: `YYYY-MM-DD` (00:00 UTC of that day) or RFC 3339.
pub fn parse_instant(text: &str) -> Result<OffsetDateTime, DateError> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    parse_date(text).map(|d| d.midnight().assume_offset(UtcOffset::UTC))
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn dates() {
        assert_eq!(parse_date("2026-11-25"), Ok(date!(2026 - 11 - 25)));
        assert_eq!(parse_date("2024-02-29"), Ok(date!(2024 - 02 - 29)));
        for bad in [
            "",
            "2026-1-25",
            " 2026-11-25",
            "2026-11-25 ",
            "+026-11-25",
            "2026/11/25",
        ] {
            assert!(
                matches!(parse_date(bad), Err(DateError::Malformed { .. })),
                "{bad:?}"
            );
        }
        for bad in ["2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31"] {
            assert!(
                matches!(parse_date(bad), Err(DateError::NoSuchDay { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn instants() {
        assert_eq!(
            parse_instant("2027-01-01"),
            Ok(datetime!(2027-01-01 00:00 UTC))
        );
        assert_eq!(
            parse_instant("2027-01-01T09:00:00+09:00"),
            Ok(datetime!(2027-01-01 00:00 UTC))
        );
        assert!(matches!(
            parse_instant("2027-01-01T09:00:00"),
            Err(DateError::Malformed { .. })
        ));
        assert!(matches!(
            parse_instant("2027-02-30"),
            Err(DateError::NoSuchDay { .. })
        ));
    }

    #[test]
    fn formats_what_it_parses() {
        for s in ["2026-11-25", "0999-01-01", "9999-12-31"] {
            assert_eq!(format_date(parse_date(s).unwrap()), s);
        }
    }
}
