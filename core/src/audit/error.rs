//! Import errors: a configuration the platform itself would refuse is refused
//! here too, with the platform's reason and the place in the file.

use super::model::Location;

/// Why a configuration could not be imported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file could not be read.
    #[error("{file}: cannot read: {reason}")]
    Io {
        /// The file.
        file: String,
        /// The operating system's message.
        reason: String,
    },
    /// The file is not well-formed XML / plist / JSON / TOML.
    #[error("{location}: not a well-formed {what}: {reason}")]
    Syntax {
        /// Where.
        location: Location,
        /// The expected syntax (`XML`, `property list`, ...).
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// The platform would refuse the configuration.
    #[error("{location}: {platform} refuses this configuration: {reason}")]
    Refused {
        /// Where.
        location: Location,
        /// Which platform's rule (`Android`, `TrustKit`, `ATS`, `OkHttp`, `Mamori`).
        platform: &'static str,
        /// The platform's reason.
        reason: String,
    },
    /// The input exceeds a size or nesting limit ([`crate::limits`]).
    #[error("{file}: {limit}")]
    Limit {
        /// The file.
        file: String,
        /// Which limit.
        limit: crate::limits::LimitError,
    },
    /// The format could not be recognised from the content.
    #[error(
        "{file}: cannot tell the format ({reason}); pass --from nsc|trustkit|ats|okhttp|mamori"
    )]
    UnknownFormat {
        /// The file.
        file: String,
        /// What was seen.
        reason: String,
    },
    /// A package (APK, AAB, IPA) given to [`super::load_all`] could not be
    /// audited.
    #[error(transparent)]
    Package(Box<super::package::PackageError>),
}

impl From<super::package::PackageError> for ImportError {
    fn from(e: super::package::PackageError) -> Self {
        match e {
            // A configuration inside the package: the importer's own error.
            super::package::PackageError::Import(e) => e,
            e => Self::Package(Box::new(e)),
        }
    }
}

impl ImportError {
    pub(crate) fn refused(
        location: Location,
        platform: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        Self::Refused {
            location,
            platform,
            reason: reason.into(),
        }
    }
}
