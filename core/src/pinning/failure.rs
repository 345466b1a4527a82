//! Why a pin check failed, typed.
//!
//! Callers branch on these (the rustls adapter maps them to
//! `rustls::CertificateError`, the FFI to a failure kind, apps to a message),
//! so each cause is a variant, never a sentence to search. The `Display`
//! texts are the sentences a developer reads in a decision's `reason`.
//!
//! Every type here is plain data with public fields of FFI-friendly types
//! (strings, integers, other such enums): the bindings mirror them field for
//! field.

use serde::Serialize;

use super::verify::Position;

/// Why a check failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Failure {
    /// The host name given by the TLS stack is not a host.
    #[error("invalid host: {0}")]
    InvalidHost(String),
    /// The server presented no certificate.
    #[error("the server presented no certificate")]
    EmptyChain,
    /// The chain does not validate against the configured anchors.
    #[error("certificate chain not trusted: {0}")]
    Chain(ChainError),
    /// The leaf is not valid for the host.
    #[error("certificate is not valid for the host: {0}")]
    Name(NameError),
    /// The strict profile refused a certificate.
    #[error("refused by the strict profile: {0}")]
    Strict(StrictViolation),
    /// No pin of the rule matched the verified path.
    #[error("no pin of {rule} matched the verified chain")]
    PinMismatch {
        /// The rule's host.
        rule: String,
    },
}

/// Why path validation (rustls-webpki) refused the chain.
///
/// The causes an app or a server can act on have their own variant; the
/// rest of webpki's diagnostics arrive as [`ChainError::Other`] with
/// webpki's name for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ChainError {
    /// A certificate of the path is past its `notAfter`.
    #[error("certificate expired")]
    Expired,
    /// A certificate of the path is before its `notBefore` (or the device
    /// clock is wrong).
    #[error("certificate not valid yet")]
    NotYetValid,
    /// No path leads to a configured trust anchor.
    #[error("unknown issuer (no path to a configured trust anchor)")]
    UnknownIssuer,
    /// A signature on the path does not verify.
    #[error("a certificate signature does not verify")]
    BadSignature,
    /// A certificate of the path is revoked.
    #[error("certificate revoked")]
    Revoked,
    /// The leaf lacks the serverAuth extended key usage.
    #[error("certificate lacks the serverAuth extended key usage")]
    MissingServerAuth,
    /// The leaf certificate could not be parsed.
    #[error("leaf: {detail}")]
    BadLeaf {
        /// webpki's diagnostic.
        detail: String,
    },
    /// Another webpki diagnostic.
    #[error("{detail}")]
    Other {
        /// webpki's name for the error (e.g. `PathLenConstraintViolated`).
        detail: String,
    },
}

impl ChainError {
    /// Classifies a webpki path-validation error.
    pub(crate) fn from_webpki(e: &webpki::Error) -> Self {
        use webpki::Error as E;
        match e {
            E::CertExpired { .. } => Self::Expired,
            E::CertNotValidYet { .. } => Self::NotYetValid,
            E::UnknownIssuer => Self::UnknownIssuer,
            E::InvalidSignatureForPublicKey => Self::BadSignature,
            E::CertRevoked => Self::Revoked,
            E::RequiredEkuNotFoundContext(_) => Self::MissingServerAuth,
            other => Self::Other {
                detail: format!("{other:?}"),
            },
        }
    }
}

/// Why the leaf is not valid for the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NameError {
    /// The leaf names neither the host nor a wildcard covering it.
    #[error("certificate is not valid for this host name")]
    NotValidForName {
        /// The names the leaf carries: DNS names and wildcards as written,
        /// other kinds (IP addresses) as webpki describes them.
        presented: Vec<String>,
    },
    /// The host cannot be checked against a certificate.
    #[error("{detail}")]
    Other {
        /// What went wrong.
        detail: String,
    },
}

impl NameError {
    /// Classifies a webpki name-check error.
    pub(crate) fn from_webpki(e: &webpki::Error) -> Self {
        match e {
            webpki::Error::CertNotValidForName(ctx) => Self::NotValidForName {
                // webpki writes `DnsName("a.example")`; keep the name itself.
                presented: ctx
                    .presented
                    .iter()
                    .map(|n| {
                        n.strip_prefix("DnsName(\"")
                            .and_then(|n| n.strip_suffix("\")"))
                            .unwrap_or(n)
                            .to_owned()
                    })
                    .collect(),
            },
            other => Self::Other {
                detail: format!("{other:?}"),
            },
        }
    }
}

/// The rule of the strict profile (see `pinning::strict`) that a verified
/// path broke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "rule", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StrictViolation {
    /// The anchor's public key could not be read.
    #[error("anchor key unreadable: {detail}")]
    AnchorKeyUnreadable {
        /// The parser's message.
        detail: String,
    },
    /// A certificate of the path could not be parsed.
    #[error("unparseable certificate: {detail}")]
    Unparseable {
        /// The parser's message.
        detail: String,
    },
    /// A key of the path is DSA.
    #[error("{position:?} has a DSA key")]
    DsaKey {
        /// Where the key sits.
        position: Position,
    },
    /// A key of the path is on P-192.
    #[error("{position:?} has a P-192 key")]
    P192Key {
        /// Where the key sits.
        position: Position,
    },
    /// An RSA key of the path has fewer than 2048 bits.
    #[error("{position:?} has an RSA key of {bits} bits (minimum 2048)")]
    RsaKeyTooShort {
        /// Where the key sits.
        position: Position,
        /// The modulus length.
        bits: u32,
    },
    /// An RSA modulus is not a whole number of bytes (CABF BR 6.1.5).
    #[error("{position:?} has an RSA key of {bits} bits, not a whole number of bytes")]
    RsaKeyOddLength {
        /// Where the key sits.
        position: Position,
        /// The modulus length.
        bits: u32,
    },
    /// The leaf allows any extended key usage (CABF BR 7.1.2.7.10).
    #[error("leaf allows any extended key usage (anyExtendedKeyUsage)")]
    AnyExtendedKeyUsage,
    /// The leaf does not name serverAuth.
    #[error("leaf has no serverAuth extended key usage")]
    NoServerAuth,
    /// The leaf's extended key usage extension could not be read.
    #[error("leaf EKU unreadable: {detail}")]
    EkuUnreadable {
        /// The parser's message.
        detail: String,
    },
    /// The leaf may sign certificates (keyUsage keyCertSign; RFC 5280 4.2.1.3).
    #[error("leaf may sign certificates (keyUsage keyCertSign)")]
    LeafSignsCertificates,
    /// An extension of a path certificate does not parse.
    #[error("{position:?} has a malformed extension {oid}: {detail}")]
    MalformedExtension {
        /// Where the certificate sits.
        position: Position,
        /// The extension's OID, dotted.
        oid: String,
        /// The parser's message.
        detail: String,
    },
    /// A serial number is not a positive integer of at most 20 octets
    /// (RFC 5280 4.1.2.2).
    #[error("{position:?} has a serial number that is not a positive integer of at most 20 octets")]
    BadSerialNumber {
        /// Where the certificate sits.
        position: Position,
    },
    /// The leaf covers the host only through a wildcard directly under a
    /// public suffix (CABF BR 3.2.2.6).
    #[error(
        "the leaf covers {host} only through the wildcard {wildcard}, which sits directly under a public suffix"
    )]
    PublicSuffixWildcard {
        /// The host connected to.
        host: String,
        /// The wildcard name, e.g. `*.co.uk`.
        wildcard: String,
    },
}
