//! What pin and device policies share: their text formats, and reporting
//! every problem of a document at once.
//!
//! Both policies are documents an app ships (TOML) or a server sends (JSON).
//! The format is told by the content, never by a file name, so a policy
//! reads the same from a file, a string or the FFI. And both are validated
//! completely when loaded: each problem names its field, and all of them are
//! reported together, so a security team fixes a policy in one round.

use core::fmt;

use serde::de::DeserializeOwned;

/// The format of a policy text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyFormat {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl PolicyFormat {
    /// The format of `text`, from its content: JSON documents start with `{`.
    pub fn detect(text: &str) -> Self {
        if text.trim_start().starts_with('{') {
            Self::Json
        } else {
            Self::Toml
        }
    }

    /// Deserialises `text`; the error is the parser's message (with line and
    /// column), trimmed.
    pub(crate) fn deserialize<T: DeserializeOwned>(self, text: &str) -> Result<T, String> {
        let res = match self {
            Self::Toml => toml::from_str(text).map_err(|e| e.to_string()),
            Self::Json => serde_json::from_str(text).map_err(|e| e.to_string()),
        };
        res.map_err(|msg| msg.trim().to_owned())
    }
}

/// Writes `header` then one indented line per problem: the shape of every
/// policy error's text.
pub(crate) fn write_problems<P: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    header: fmt::Arguments<'_>,
    problems: &[P],
) -> fmt::Result {
    f.write_fmt(header)?;
    for p in problems {
        write!(f, "\n  - {p}")?;
    }
    Ok(())
}
