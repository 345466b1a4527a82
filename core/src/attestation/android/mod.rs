//! Android Key Attestation: a chain from a hardware-backed key to Google's
//! attestation roots, and the `KeyDescription` its leaf carries.
//!
//! The chain rules are Google's (android/keyattestation), not RFC 5280's,
//! because real chains only verify under them:
//!
//! - The chain is leaf first. A self-issued last certificate is the device's
//!   copy of the root: it is not trusted for itself (it may be an older,
//!   expired copy of Google's root with the same key). The certificate below
//!   it must be signed by a trusted root's key, found by subject name.
//! - The leaf's validity is never checked: the device sets it.
//! - Every other certificate must be valid at the verification time, except
//!   that *expired* certificates are tolerated in factory-provisioned chains
//!   (the intermediate under the root has a `serialNumber` and a `title` of
//!   `TEE` or `StrongBox` in its subject),
//!   whose keys cannot be rotated. Not-yet-valid is always fatal, and
//!   remotely provisioned (RKP) chains honour expiry.
//! - The chain has the shape its provisioning gives it (3 certificates under
//!   the root for factory keys, 4 for RKP, else 2 or 3), and no certificate
//!   but the last is self-issued: a repeated root copy cannot become the top of
//!   the path and pass for a factory intermediate.
//! - Only the leaf may carry the `KeyDescription` extension, and it must.
//! - A chain to one of Google's software roots, or an attestation whose
//!   security level is software, is refused unless the caller allows it;
//!   allowed, a software root's attestation reports the `software` level
//!   whatever its KeyDescription says (its key is published in AOSP).
//! - OS version and patch levels come from `hardwareEnforced` only (from
//!   `softwareEnforced` for a software-level attestation, which has nothing
//!   else).
//!
//! Signatures are checked with ring over each certificate's TBS bytes; the
//! leaf's own key is never used, so a leaf whose key ring cannot handle
//! (ML-DSA on KeyMint 500) still parses and verifies.

mod key_description;
mod revocation;

use rustls_pki_types::UnixTime;
use rustls_pki_types::pem::PemObject;
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{OID_X509_SERIALNUMBER, OID_X509_TITLE, Oid};

pub use key_description::{
    AttestationApplicationId, AttestationPackageInfo, AuthorizationList, KeyDescription,
    KeyDescriptionError, Origin, RootOfTrust, SecurityLevel, VerifiedBootState,
    parse_key_description,
};
pub use revocation::{RevocationEntry, RevocationError, RevocationList};

use super::x509::{parse_certificate, pem_certificates, verify_signed_by};

/// OID of the `KeyDescription` extension.
const KEY_DESCRIPTION_OID: &str = "1.3.6.1.4.1.11129.2.1.17";

const GOOGLE_HARDWARE_ROOTS_PEM: &str = include_str!("../roots/google_hardware_roots.pem");
const GOOGLE_SOFTWARE_ROOTS_PEM: &str = include_str!("../roots/google_software_roots.pem");

/// Why an Android attestation did not verify. [`AndroidError::step`] names
/// the failed step in one word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AndroidError {
    /// The input is not a PEM chain within the bounds.
    #[error("input: {0}")]
    Input(String),
    /// A certificate does not parse (`index` 0 is the leaf).
    #[error("certificate {index}: {reason}")]
    Certificate {
        /// Position in the chain as given.
        index: usize,
        /// Parser message.
        reason: String,
    },
    /// Only a leaf: there is no chain to verify.
    #[error("the chain has only the leaf: nothing links it to a root")]
    ChainTooShort,
    /// A certificate's issuer is not the subject of the next one.
    /// The chain is not one of the shapes Google's provisioning produces
    /// (factory: leaf, attestation key, factory intermediate; remote: leaf,
    /// attestation key, RKP server, `Droid CA2`; otherwise leaf and
    /// attestation key, or three certificates), or a certificate inside it is
    /// self-issued (a root copy where an intermediate belongs).
    #[error("chain shape: {0}")]
    ChainShape(String),
    /// A certificate's issuer is not the next certificate's subject.
    #[error("certificate {index}: issuer is not the subject of the next certificate")]
    NameChaining {
        /// Position of the certificate whose issuer does not match.
        index: usize,
    },
    /// A certificate's signature does not verify under its issuer's key.
    #[error("certificate {index}: {reason}")]
    Signature {
        /// Position of the certificate whose signature failed.
        index: usize,
        /// What failed.
        reason: String,
    },
    /// No trusted root signed the top of the chain.
    #[error("the chain does not end at a trusted attestation root")]
    UntrustedRoot,
    /// A certificate is not yet valid at the verification time.
    #[error("certificate {index} is not valid before {not_before} (unix time)")]
    NotYetValid {
        /// Position in the chain.
        index: usize,
        /// Its `notBefore`, seconds since the epoch.
        not_before: i64,
    },
    /// A certificate expired, in a chain whose expiry counts.
    #[error("certificate {index} expired at {not_after} (unix time)")]
    Expired {
        /// Position in the chain.
        index: usize,
        /// Its `notAfter`, seconds since the epoch.
        not_after: i64,
    },
    /// A certificate of the chain is revoked in the given list.
    #[error("certificate {index} (serial {serial}) is revoked")]
    Revoked {
        /// Position in the chain.
        index: usize,
        /// Its serial, lowercase hex.
        serial: String,
        /// The list's reason, if any.
        reason: Option<String>,
    },
    /// The leaf has no `KeyDescription` extension.
    #[error("the leaf has no KeyDescription extension")]
    MissingKeyDescription,
    /// A certificate other than the leaf carries a `KeyDescription`, or the
    /// leaf carries two.
    #[error("certificate {index} carries an unexpected KeyDescription extension")]
    UnexpectedKeyDescription {
        /// Position in the chain.
        index: usize,
    },
    /// The `KeyDescription` does not parse.
    #[error(transparent)]
    KeyDescription(#[from] KeyDescriptionError),
    /// The chain ends at a software root and software attestation is not allowed.
    #[error("the chain ends at Google's software attestation root")]
    SoftwareRoot,
    /// The attestation's security level is software and that is not allowed.
    #[error("the key or its attestation is software-backed")]
    SoftwareAttestation,
    /// The attested challenge is not the expected one.
    #[error("the attested challenge is not the expected one")]
    ChallengeMismatch,
}

impl AndroidError {
    /// The failed step in one word: `input`, `certificate`, `chain`,
    /// `signature`, `root`, `validity`, `revocation`, `key_description`,
    /// `security_level` or `challenge`.
    pub fn step(&self) -> &'static str {
        match self {
            Self::Input(_) => "input",
            Self::Certificate { .. } => "certificate",
            Self::ChainTooShort | Self::ChainShape(_) | Self::NameChaining { .. } => "chain",
            Self::Signature { .. } => "signature",
            Self::UntrustedRoot => "root",
            Self::NotYetValid { .. } | Self::Expired { .. } => "validity",
            Self::Revoked { .. } => "revocation",
            Self::MissingKeyDescription
            | Self::UnexpectedKeyDescription { .. }
            | Self::KeyDescription(_) => "key_description",
            Self::SoftwareRoot | Self::SoftwareAttestation => "security_level",
            Self::ChallengeMismatch => "challenge",
        }
    }
}

/// Why a roots file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RootsError {
    /// Neither a PEM bundle nor a JSON array of PEM strings.
    #[error("roots: {0}")]
    Malformed(String),
}

/// Whether a root vouches for hardware or for Android's software keystore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RootKind {
    /// A hardware attestation root.
    Hardware,
    /// Google's software attestation root: keys are not in secure hardware.
    Software,
}

/// How the chain's keys were provisioned, which decides whether expiry counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Provisioning {
    /// Keys installed at the factory: expired certificates are tolerated.
    Factory,
    /// Remote key provisioning (RKP, `Droid CA2`): short-lived, expiry enforced.
    Remote,
    /// Neither (software chains): expiry enforced.
    Unknown,
}

#[derive(Debug, Clone)]
struct Anchor {
    der: Vec<u8>,
    kind: RootKind,
}

/// The attestation roots a chain may end at.
#[derive(Debug, Clone)]
pub struct GoogleRoots {
    anchors: Vec<Anchor>,
}

impl GoogleRoots {
    /// Google's hardware roots (RSA-4096 and the 2025 ECDSA P-384 "Key
    /// Attestation CA1") and its two software roots, bundled with their
    /// source (`core/src/attestation/roots/`).
    pub fn bundled() -> Self {
        let mut anchors = kinded(GOOGLE_HARDWARE_ROOTS_PEM.as_bytes(), RootKind::Hardware);
        anchors.extend(software_anchors());
        Self { anchors }
    }

    /// Roots from a file: a PEM bundle, or a JSON array of PEM strings (the
    /// form in which Google publishes its roots). They replace the bundled
    /// hardware roots; Google's software roots stay available for callers
    /// that allow software attestation, and a given root with a software
    /// root's key counts as a software root.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RootsError> {
        let text =
            std::str::from_utf8(bytes).map_err(|_| RootsError::Malformed("not UTF-8".into()))?;
        let pem = if text.trim_start().starts_with('[') {
            let list: Vec<String> =
                serde_json::from_str(text).map_err(|e| RootsError::Malformed(e.to_string()))?;
            list.join("\n")
        } else {
            text.to_owned()
        };
        let ders = pem_certificates(pem.as_bytes()).map_err(RootsError::Malformed)?;
        let software = software_anchors();
        let mut anchors = Vec::with_capacity(ders.len() + software.len());
        for (i, der) in ders.into_iter().enumerate() {
            let cert = parse_certificate(&der)
                .map_err(|e| RootsError::Malformed(format!("root {i}: {e}")))?;
            let spki = cert.tbs_certificate.subject_pki.raw;
            let is_software = software.iter().any(|s| {
                parse_certificate(&s.der).is_ok_and(|c| c.tbs_certificate.subject_pki.raw == spki)
            });
            let kind = if is_software {
                RootKind::Software
            } else {
                RootKind::Hardware
            };
            anchors.push(Anchor { der, kind });
        }
        anchors.extend(software);
        Ok(Self { anchors })
    }

    /// DER of every root, with its kind.
    pub fn roots(&self) -> impl Iterator<Item = (&[u8], RootKind)> {
        self.anchors.iter().map(|a| (a.der.as_slice(), a.kind))
    }
}

fn kinded(pem: &[u8], kind: RootKind) -> Vec<Anchor> {
    rustls_pki_types::CertificateDer::pem_slice_iter(pem)
        .map(|c| Anchor {
            der: c.expect("bundled roots are valid PEM").as_ref().to_vec(),
            kind,
        })
        .collect()
}

fn software_anchors() -> Vec<Anchor> {
    kinded(GOOGLE_SOFTWARE_ROOTS_PEM.as_bytes(), RootKind::Software)
}

/// What to verify an Android chain against.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AndroidOptions<'a> {
    /// Trusted roots.
    pub roots: &'a GoogleRoots,
    /// Verification time (never the wall clock: pass it in).
    pub time: UnixTime,
    /// The challenge the server issued; `None` reports it without checking.
    pub challenge: Option<&'a [u8]>,
    /// Accept software roots and software-level attestations.
    pub allow_software_root: bool,
    /// Revocation status list to apply.
    pub revocation: Option<&'a RevocationList>,
}

impl<'a> AndroidOptions<'a> {
    /// Options with no challenge, no revocation list and software refused.
    pub fn new(roots: &'a GoogleRoots, time: UnixTime) -> Self {
        Self {
            roots,
            time,
            challenge: None,
            allow_software_root: false,
            revocation: None,
        }
    }
}

/// A verified Android attestation: the chain is valid to a trusted root at
/// the given time and the leaf's `KeyDescription` parsed.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct AndroidAttestation {
    /// Everything the leaf attests.
    pub key_description: KeyDescription,
    /// `min(attestationSecurityLevel, keyMintSecurityLevel)`.
    pub security_level: SecurityLevel,
    /// From the hardware-enforced root of trust; `Unverified` without one.
    pub verified_boot_state: VerifiedBootState,
    /// From the hardware-enforced root of trust; `false` without one.
    pub device_locked: bool,
    /// The hardware-enforced root of trust, if any.
    pub root_of_trust: Option<RootOfTrust>,
    /// OS version (hardware-enforced list, else software-enforced).
    pub os_version: Option<u64>,
    /// OS patch level `YYYYMM` (same precedence).
    pub os_patch_level: Option<u64>,
    /// Vendor patch level (same precedence).
    pub vendor_patch_level: Option<u64>,
    /// Boot patch level (same precedence).
    pub boot_patch_level: Option<u64>,
    /// The app that asked for the key (from the software-enforced list, where
    /// Keystore puts it).
    pub attestation_application_id: Option<AttestationApplicationId>,
    /// Whether an expected challenge was given and matched.
    pub challenge_checked: bool,
    /// How the chain was provisioned.
    pub provisioning: Provisioning,
    /// The kind of root the chain ends at.
    pub root_kind: RootKind,
    /// SHA-256 of the trusted root's DER.
    pub root_sha256: [u8; 32],
    /// Serial numbers of the checked certificates, leaf first, lowercase hex.
    pub serials: Vec<String>,
    /// SHA-256 of the revocation list applied, if one was.
    pub revocation_list_sha256: Option<[u8; 32]>,
    /// The leaf's SubjectPublicKeyInfo (DER): the attested key.
    pub leaf_public_key: Vec<u8>,
}

/// Reads the `KeyDescription` of a leaf certificate (DER) without verifying
/// anything: for reporting what a chain claims when it does not verify.
pub fn leaf_key_description(leaf_der: &[u8]) -> Result<KeyDescription, AndroidError> {
    let leaf = parse_certificate(leaf_der)
        .map_err(|reason| AndroidError::Certificate { index: 0, reason })?;
    let ext = key_description_ext(&leaf, 0)?.ok_or(AndroidError::MissingKeyDescription)?;
    Ok(parse_key_description(ext)?)
}

/// The value of the certificate's single `KeyDescription` extension, if any.
fn key_description_ext<'a>(
    cert: &X509Certificate<'a>,
    index: usize,
) -> Result<Option<&'a [u8]>, AndroidError> {
    let oid: Oid<'static> = KEY_DESCRIPTION_OID.parse().expect("valid OID");
    let mut found = cert.extensions().iter().filter(|e| e.oid == oid);
    let first = found.next().map(|e| e.value);
    if found.next().is_some() {
        return Err(AndroidError::UnexpectedKeyDescription { index });
    }
    Ok(first)
}

/// Verifies a chain given as PEM text, leaf first, as the device returns it.
pub fn verify_android_pem(
    pem: &[u8],
    options: &AndroidOptions<'_>,
) -> Result<AndroidAttestation, AndroidError> {
    let chain = pem_certificates(pem).map_err(AndroidError::Input)?;
    verify_android(&chain, options)
}

/// Verifies a chain of DER certificates, leaf first.
pub fn verify_android(
    chain: &[Vec<u8>],
    options: &AndroidOptions<'_>,
) -> Result<AndroidAttestation, AndroidError> {
    if chain.len() > super::MAX_CHAIN_CERTIFICATES {
        return Err(AndroidError::Input(format!(
            "{} certificates (limit {})",
            chain.len(),
            super::MAX_CHAIN_CERTIFICATES
        )));
    }
    let certs = chain
        .iter()
        .enumerate()
        .map(|(index, der)| {
            parse_certificate(der).map_err(|reason| AndroidError::Certificate { index, reason })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (leaf, last) = match certs.as_slice() {
        [] => return Err(AndroidError::Input("empty chain".into())),
        [_] => return Err(AndroidError::ChainTooShort),
        [leaf, .., last] => (leaf, last),
    };
    // The device's copy of the root is not trusted for itself.
    let mut path = certs.as_slice();
    if is_self_issued(last) {
        path = &path[..path.len() - 1];
    }
    // Anything else self-issued is a root copy where an intermediate belongs:
    // left in, it would become the top of the path (signed by the anchor's
    // own key) and decide the provisioning, and with it whether expiry counts.
    if let Some(index) = path.iter().position(is_self_issued) {
        return Err(AndroidError::ChainShape(format!(
            "certificate {index} is self-issued but is not the last one"
        )));
    }
    let top_index = path.len() - 1;
    let top = &path[top_index];
    let (anchor, root) = find_anchor(options.roots, top, options.allow_software_root)?;
    let provisioning = provisioning(top);
    check_shape(path.len(), provisioning)?;

    let at = options.time.as_secs() as i64;
    for (index, cert) in path.iter().enumerate() {
        let issuer_spki = match path.get(index + 1) {
            Some(issuer) => {
                if cert.issuer().as_raw() != issuer.subject().as_raw() {
                    return Err(AndroidError::NameChaining { index });
                }
                &issuer.tbs_certificate.subject_pki
            }
            None => &root.tbs_certificate.subject_pki,
        };
        verify_signed_by(cert, issuer_spki, anchor.kind == RootKind::Software)
            .map_err(|reason| AndroidError::Signature { index, reason })?;
        if index > 0 {
            let validity = cert.validity();
            if at < validity.not_before.timestamp() {
                return Err(AndroidError::NotYetValid {
                    index,
                    not_before: validity.not_before.timestamp(),
                });
            }
            if at > validity.not_after.timestamp() && provisioning != Provisioning::Factory {
                return Err(AndroidError::Expired {
                    index,
                    not_after: validity.not_after.timestamp(),
                });
            }
            if key_description_ext(cert, index)?.is_some() {
                return Err(AndroidError::UnexpectedKeyDescription { index });
            }
        }
    }
    let serials: Vec<String> = path
        .iter()
        .map(|c| revocation::serial_key(c.raw_serial()))
        .collect();
    if let Some(list) = options.revocation {
        for (index, serial) in serials.iter().enumerate() {
            if let Some(entry) = list.revoked(serial) {
                return Err(AndroidError::Revoked {
                    index,
                    serial: serial.clone(),
                    reason: entry.reason.clone(),
                });
            }
        }
    }

    let ext = key_description_ext(leaf, 0)?.ok_or(AndroidError::MissingKeyDescription)?;
    let kd = parse_key_description(ext)?;
    // A software root's signing key is published in Android's source: whatever
    // the KeyDescription claims under it, anyone could have written it.
    let security_level = if anchor.kind == RootKind::Software {
        SecurityLevel::Software
    } else {
        kd.attestation_security_level
            .min(kd.key_mint_security_level)
    };
    if security_level == SecurityLevel::Software && !options.allow_software_root {
        return Err(AndroidError::SoftwareAttestation);
    }
    let challenge_checked = match options.challenge {
        Some([]) => {
            return Err(AndroidError::Input(
                "the expected challenge is empty: pass the challenge the server issued".into(),
            ));
        }
        Some(expected) if expected != kd.attestation_challenge.as_slice() => {
            return Err(AndroidError::ChallengeMismatch);
        }
        Some(_) => true,
        None => false,
    };

    let hw = &kd.hardware_enforced;
    let sw = &kd.software_enforced;
    // OS version and patch levels are the secure hardware's (as Google's
    // verifier reads them); the software list is Android's userspace, which a
    // rooted device controls. Only a software-level attestation, which has
    // nothing else, reports them from there.
    let system = if security_level == SecurityLevel::Software {
        sw
    } else {
        hw
    };
    let root_of_trust = hw.root_of_trust.clone();
    Ok(AndroidAttestation {
        security_level,
        verified_boot_state: root_of_trust
            .as_ref()
            .map_or(VerifiedBootState::Unverified, |r| r.verified_boot_state),
        device_locked: root_of_trust.as_ref().is_some_and(|r| r.device_locked),
        root_of_trust,
        os_version: system.os_version,
        os_patch_level: system.os_patch_level,
        vendor_patch_level: system.vendor_patch_level,
        boot_patch_level: system.boot_patch_level,
        attestation_application_id: sw
            .attestation_application_id
            .clone()
            .or_else(|| hw.attestation_application_id.clone()),
        challenge_checked,
        provisioning,
        root_kind: anchor.kind,
        root_sha256: super::sha256(&[&anchor.der]),
        serials,
        revocation_list_sha256: options.revocation.map(RevocationList::sha256),
        leaf_public_key: leaf.tbs_certificate.subject_pki.raw.to_vec(),
        key_description: kd,
    })
}

/// The trusted root that issued `top`: same subject name as `top`'s issuer,
/// and its key verifies `top`'s signature. Hardware roots are tried first;
/// software roots only when allowed or when nothing else matches (so that
/// the failure says "software root" rather than "untrusted").
fn find_anchor<'r>(
    roots: &'r GoogleRoots,
    top: &X509Certificate<'_>,
    allow_software: bool,
) -> Result<(&'r Anchor, X509Certificate<'r>), AndroidError> {
    let mut ordered: Vec<&Anchor> = roots.anchors.iter().collect();
    ordered.sort_by_key(|a| a.kind == RootKind::Software);
    for anchor in ordered {
        let Ok(root) = parse_certificate(&anchor.der) else {
            continue;
        };
        if root.subject().as_raw() != top.issuer().as_raw() {
            continue;
        }
        let legacy = anchor.kind == RootKind::Software;
        if verify_signed_by(top, &root.tbs_certificate.subject_pki, legacy).is_ok() {
            if legacy && !allow_software {
                return Err(AndroidError::SoftwareRoot);
            }
            return Ok((anchor, root));
        }
    }
    Err(AndroidError::UntrustedRoot)
}

fn is_self_issued(cert: &X509Certificate<'_>) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw()
}

/// The path lengths (without the root) Google's verifier accepts for each
/// provisioning: factory intermediate, attestation key, leaf; RKP
/// intermediate, RKP server, attestation key, leaf; otherwise attestation key
/// and leaf (software and older chains), or three certificates. A certificate
/// after the leaf's position is refused (Google: `CERTIFICATE_AFTER_TARGET`).
fn check_shape(len: usize, provisioning: Provisioning) -> Result<(), AndroidError> {
    let (fits, rule) = match provisioning {
        Provisioning::Factory => (len == 3, "a factory-provisioned chain has 3"),
        Provisioning::Remote => (len == 4, "a remotely provisioned chain has 4"),
        Provisioning::Unknown => (
            (2..=3).contains(&len),
            "a chain of unknown provisioning has 2 or 3",
        ),
    };
    if fits {
        return Ok(());
    }
    Err(AndroidError::ChainShape(format!(
        "{len} certificates under the root; {rule}"
    )))
}

/// Factory chains carry a `serialNumber` and a `title` of `TEE` or
/// `StrongBox` in the subject of the certificate under the root (Google's
/// rule); RKP chains have `CN=Droid CA2, O=Google LLC` there.
fn provisioning(top: &X509Certificate<'_>) -> Provisioning {
    let subject = top.subject();
    let title = subject
        .iter_by_oid(&OID_X509_TITLE)
        .next()
        .and_then(|a| a.as_str().ok());
    if subject.iter_by_oid(&OID_X509_SERIALNUMBER).next().is_some()
        && matches!(title, Some("TEE" | "StrongBox"))
    {
        return Provisioning::Factory;
    }
    let cn = subject
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok());
    let o = subject
        .iter_organization()
        .next()
        .and_then(|a| a.as_str().ok());
    if cn == Some("Droid CA2") && o == Some("Google LLC") {
        Provisioning::Remote
    } else {
        Provisioning::Unknown
    }
}

#[cfg(test)]
mod tests {
    //! Chains under a test root (rcgen), for what real chains cannot show: a
    //! software root whose KeyDescription claims hardware, shapes Google
    //! refuses, patch levels only in the software list.
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer};
    use rcgen::{DnValue, KeyPair};
    use std::time::Duration;

    const AT: u64 = 1_790_000_000; // 2026-09

    /// A KeyDescription (version 300) at `level` for both security levels,
    /// with the given integer tags in the software and hardware lists.
    fn key_description(level: u8, sw: &[(u64, u64)], hw: &[(u64, u64)]) -> Vec<u8> {
        let list = |w: yasna::DERWriter<'_>, tags: &[(u64, u64)]| {
            w.write_sequence(|w| {
                for (tag, value) in tags {
                    w.next()
                        .write_tagged(yasna::Tag::context(*tag), |w| w.write_u64(*value));
                }
            })
        };
        yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_u32(300);
                w.next().write_enum(level.into());
                w.next().write_u32(300);
                w.next().write_enum(level.into());
                w.next().write_bytes(b"challenge");
                w.next().write_bytes(b"");
                list(w.next(), sw);
                list(w.next(), hw);
            })
        })
    }

    fn ca(subject: &[(DnType, &str)]) -> (CertificateParams, KeyPair) {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        for (t, v) in subject {
            p.distinguished_name
                .push(t.clone(), DnValue::Utf8String((*v).into()));
        }
        (p, KeyPair::generate().unwrap())
    }

    /// Leaf first, root last (DER), the root's DER, and the chain's CAs
    /// named by `subjects` from the root down.
    fn chain(subjects: &[&[(DnType, &str)]], kd: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>) {
        let (root_params, root_key) = ca(&[(DnType::CommonName, "Test Root")]);
        let root = root_params.self_signed(&root_key).unwrap();
        let mut issuer = Issuer::new(root_params, root_key);
        let mut ders = vec![root.der().to_vec()];
        for subject in subjects {
            let (params, key) = ca(subject);
            let cert = params.signed_by(&key, &issuer).unwrap();
            ders.push(cert.der().to_vec());
            issuer = Issuer::new(params, key);
        }
        let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.custom_extensions = vec![CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17],
            kd.to_vec(),
        )];
        let leaf = leaf
            .signed_by(&KeyPair::generate().unwrap(), &issuer)
            .unwrap();
        ders.push(leaf.der().to_vec());
        ders.reverse();
        let root_der = ders.last().unwrap().clone();
        (ders, root_der)
    }

    fn roots(der: Vec<u8>, kind: RootKind) -> GoogleRoots {
        GoogleRoots {
            anchors: vec![Anchor { der, kind }],
        }
    }

    fn verify(
        chain: &[Vec<u8>],
        roots: &GoogleRoots,
        allow_software: bool,
    ) -> Result<AndroidAttestation, AndroidError> {
        let time = UnixTime::since_unix_epoch(Duration::from_secs(AT));
        let mut opts = AndroidOptions::new(roots, time);
        opts.allow_software_root = allow_software;
        verify_android(chain, &opts)
    }

    const ATTESTATION: &[(DnType, &str)] = &[(DnType::CommonName, "Test Attestation Key")];

    #[test]
    fn a_software_root_reports_the_software_level_whatever_the_key_description_claims() {
        // TEE (1) in both fields, a green boot would be as easy to claim.
        let (chain, root) = chain(&[ATTESTATION], &key_description(1, &[], &[]));
        let hardware = verify(&chain, &roots(root.clone(), RootKind::Hardware), false).unwrap();
        assert_eq!(hardware.security_level, SecurityLevel::TrustedEnvironment);
        let software = roots(root, RootKind::Software);
        assert_eq!(
            verify(&chain, &software, false).unwrap_err(),
            AndroidError::SoftwareRoot
        );
        let allowed = verify(&chain, &software, true).unwrap();
        assert_eq!(allowed.security_level, SecurityLevel::Software);
        assert_eq!(allowed.root_kind, RootKind::Software);
    }

    #[test]
    fn chains_have_the_shapes_googles_provisioning_gives_them() {
        let kd = key_description(1, &[], &[]);
        let serial = DnType::CustomDnType(vec![2, 5, 4, 5]);
        let title = DnType::CustomDnType(vec![2, 5, 4, 12]);
        let factory: &[(DnType, &str)] = &[(serial.clone(), "f00d"), (title.clone(), "TEE")];
        // Factory intermediate, attestation key, leaf: accepted.
        let (ok, root) = chain(&[factory, ATTESTATION], &kd);
        let hw = roots(root, RootKind::Hardware);
        assert_eq!(
            verify(&ok, &hw, false).unwrap().provisioning,
            Provisioning::Factory
        );
        // A serialNumber without a TEE/StrongBox title is not a factory intermediate.
        let untitled: &[(DnType, &str)] = &[(serial.clone(), "f00d"), (title, "Other")];
        let (unknown, root) = chain(&[untitled, ATTESTATION], &kd);
        let a = verify(&unknown, &roots(root, RootKind::Hardware), false).unwrap();
        assert_eq!(a.provisioning, Provisioning::Unknown);
        // An extra CA between the factory intermediate and the attestation key.
        let extra: &[(DnType, &str)] = &[(DnType::CommonName, "Extra CA")];
        let (extended, root) = chain(&[factory, extra, ATTESTATION], &kd);
        let e = verify(&extended, &roots(root, RootKind::Hardware), false).unwrap_err();
        assert!(matches!(e, AndroidError::ChainShape(_)), "{e}");
        assert_eq!(e.step(), "chain");
        // Four CAs of unknown provisioning under the root.
        let (long, root) = chain(&[extra, extra, ATTESTATION], &kd);
        let e = verify(&long, &roots(root, RootKind::Hardware), false).unwrap_err();
        assert!(matches!(e, AndroidError::ChainShape(_)), "{e}");
        // The root's own certificate repeated: self-issued inside the path.
        let mut repeated = ok.clone();
        repeated.push(ok.last().unwrap().clone());
        let e = verify(&repeated, &hw, false).unwrap_err();
        assert!(matches!(e, AndroidError::ChainShape(_)), "{e}");
    }

    #[test]
    fn patch_levels_come_from_the_hardware_list_only() {
        // osVersion 705, osPatchLevel 706, vendor 718, boot 719.
        let sw = [
            (705, 160_000),
            (706, 202_611),
            (718, 20_261_105),
            (719, 20_261_105),
        ];
        let (c, root) = chain(&[ATTESTATION], &key_description(1, &sw, &[]));
        let a = verify(&c, &roots(root.clone(), RootKind::Hardware), false).unwrap();
        assert_eq!(
            (
                a.os_version,
                a.os_patch_level,
                a.vendor_patch_level,
                a.boot_patch_level
            ),
            (None, None, None, None)
        );
        let (c, root) = chain(&[ATTESTATION], &key_description(1, &sw, &[(706, 202_501)]));
        let a = verify(&c, &roots(root, RootKind::Hardware), false).unwrap();
        assert_eq!(a.os_patch_level, Some(202_501));
        // A software-level attestation has only the software list.
        let (c, root) = chain(&[ATTESTATION], &key_description(0, &sw, &[]));
        let a = verify(&c, &roots(root, RootKind::Hardware), true).unwrap();
        assert_eq!(a.os_patch_level, Some(202_611));
    }
}
