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

    /// Deserialises `text` once its size and nesting are within
    /// [`crate::limits`]; a syntax error is the parser's message (with line
    /// and column), trimmed.
    pub(crate) fn deserialize<T: DeserializeOwned>(self, text: &str) -> Result<T, FormatError> {
        match self {
            Self::Toml => crate::limits::check_toml(text),
            Self::Json => crate::limits::check_json(text.as_bytes()),
        }
        .map_err(FormatError::Limit)?;
        let res = match self {
            Self::Toml => toml::from_str(text).map_err(|e| toml_reason(text, &e)),
            Self::Json => serde_json::from_str(text).map_err(|e| e.to_string()),
        };
        res.map_err(|msg| FormatError::Syntax(msg.trim().to_owned()))
    }
}

/// A TOML error as `line L, column C: reason`: the parser's one-line
/// message, without the source excerpt and caret it draws for terminals.
pub(crate) fn toml_reason(text: &str, e: &toml::de::Error) -> String {
    let reason = e.message().trim();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before[line_start..].chars().count() + 1;
            format!("line {line}, column {column}: {reason}")
        }
        None => reason.to_owned(),
    }
}

/// Why a policy text could not be deserialised.
#[derive(Debug)]
pub(crate) enum FormatError {
    /// The parser's message.
    Syntax(String),
    /// The text exceeds a size or nesting limit.
    Limit(crate::limits::LimitError),
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
