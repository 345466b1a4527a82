//! Argument parsers shared by the subcommands, so that one flag means the
//! same thing everywhere.

use time::{OffsetDateTime, UtcOffset};

/// `--at`: `YYYY-MM-DD` (00:00 UTC) or an RFC 3339 timestamp, read by the one
/// date grammar of the core ([`mamori::date`]). The instant is returned in
/// UTC, so a subcommand that needs a day (`device check`, the date printed by
/// `audit` and `report`) takes the UTC day whichever offset was written.
pub fn at(text: &str) -> Result<OffsetDateTime, String> {
    mamori::date::parse_instant(text)
        .map(|t| t.to_offset(UtcOffset::UTC))
        .map_err(|e| e.to_string())
}
