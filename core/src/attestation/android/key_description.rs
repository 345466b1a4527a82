//! The `KeyDescription` extension (OID 1.3.6.1.4.1.11129.2.1.17) of an
//! Android attestation leaf, for every schema version seen in the field
//! (Keymaster 2, 3, 4, 4.1: versions 1 to 4 and 41; KeyMint: 100 to 500).
//!
//! The schema only ever grew by adding tags to the two authorisation lists,
//! so one reader serves all versions. It is as tolerant as Google's own
//! verifier where real devices deviate from DER (authorisation-list tags out
//! of ascending order; BOOLEANs encoded with a content octet other than
//! 0xFF) and strict about structure: a missing field, a wrong type, a
//! repeated tag or trailing bytes is an error. Tags this code does not know
//! (newer KeyMint releases) are kept by number in
//! [`AuthorizationList::unknown_tags`] rather than refused.

use x509_parser::asn1_rs::{Any, Class, FromBer, Tag};

/// Most elements accepted in one SEQUENCE or SET of the extension.
const MAX_ELEMENTS: usize = 128;

/// Why a `KeyDescription` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyDescriptionError {
    /// The bytes are not the expected ASN.1 structure at `field`.
    #[error("KeyDescription {field}: {reason}")]
    Malformed {
        /// Where in the structure reading failed (e.g. `rootOfTrust`, `tag 705`).
        field: String,
        /// What was wrong.
        reason: String,
    },
    /// An authorisation list carries the same tag twice.
    #[error("KeyDescription: tag {0} appears twice in one authorisation list")]
    DuplicateTag(u32),
}

fn malformed(field: impl Into<String>, reason: impl Into<String>) -> KeyDescriptionError {
    KeyDescriptionError::Malformed {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Security level of the attestation or of the key (the ASN.1 `SecurityLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecurityLevel {
    /// Keys generated and used in Android's software keystore.
    Software,
    /// The Trusted Execution Environment.
    TrustedEnvironment,
    /// A discrete secure element (StrongBox).
    StrongBox,
}

impl SecurityLevel {
    fn from_code(v: u32, field: &str) -> Result<Self, KeyDescriptionError> {
        match v {
            0 => Ok(Self::Software),
            1 => Ok(Self::TrustedEnvironment),
            2 => Ok(Self::StrongBox),
            _ => Err(malformed(field, format!("unknown security level {v}"))),
        }
    }

    /// The JSON word: `software`, `trusted_environment` or `strongbox`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Software => "software",
            Self::TrustedEnvironment => "trusted_environment",
            Self::StrongBox => "strongbox",
        }
    }
}

/// The boot state reported by the bootloader (`VerifiedBootState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VerifiedBootState {
    /// Locked bootloader, the OS verified with the OEM key (Green).
    Verified,
    /// Locked bootloader, the OS verified with a user-installed key (Yellow).
    SelfSigned,
    /// Unlocked bootloader: the OS is not verified (Orange).
    Unverified,
    /// Verification failed (Red).
    Failed,
}

impl VerifiedBootState {
    /// The JSON word: `verified`, `self_signed`, `unverified` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::SelfSigned => "self_signed",
            Self::Unverified => "unverified",
            Self::Failed => "failed",
        }
    }
}

/// Where the key came from (`Tag::ORIGIN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Origin {
    /// Generated inside the secure hardware.
    Generated,
    /// Derived inside the secure hardware.
    Derived,
    /// Imported in the clear.
    Imported,
    /// Reserved value 3.
    Reserved,
    /// Imported wrapped, for the secure hardware only.
    SecurelyImported,
    /// A value newer than this code.
    Other(u64),
}

impl Origin {
    fn from_code(v: u64) -> Self {
        match v {
            0 => Self::Generated,
            1 => Self::Derived,
            2 => Self::Imported,
            3 => Self::Reserved,
            4 => Self::SecurelyImported,
            n => Self::Other(n),
        }
    }
}

/// The `RootOfTrust` sequence: the boot state as the bootloader saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RootOfTrust {
    /// Digest of the key that verified the boot image (all zeros when unlocked on some devices).
    pub verified_boot_key: Vec<u8>,
    /// Whether the bootloader is locked.
    pub device_locked: bool,
    /// The verified-boot state.
    pub verified_boot_state: VerifiedBootState,
    /// Digest of the verified boot images (attestation version 3 and later).
    pub verified_boot_hash: Option<Vec<u8>>,
}

/// One package of the attested application id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttestationPackageInfo {
    /// The package name.
    pub name: String,
    /// Its version code.
    pub version: u64,
}

/// `AttestationApplicationId`: which app (packages sharing one uid) asked for
/// the key, and the digests of its signing certificates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttestationApplicationId {
    /// The packages.
    pub packages: Vec<AttestationPackageInfo>,
    /// SHA-256 digests of the signing certificates.
    pub signature_digests: Vec<Vec<u8>>,
}

/// An `AuthorizationList`: the key's properties and the device facts, as
/// enforced either by the secure hardware or by software.
///
/// Each field is `None` (or `false` for the NULL-valued flags) when its tag
/// is absent. Integer values are kept as attested; patch levels are `YYYYMM`
/// or `YYYYMMDD` as the device wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct AuthorizationList {
    /// Tag 1: allowed purposes (KeyPurpose values).
    pub purposes: Option<Vec<u64>>,
    /// Tag 2: algorithm (1 RSA, 3 EC, 32 AES, 128 HMAC...).
    pub algorithm: Option<u64>,
    /// Tag 3: key size in bits.
    pub key_size: Option<u64>,
    /// Tag 4: block modes.
    pub block_modes: Option<Vec<u64>>,
    /// Tag 5: digests.
    pub digests: Option<Vec<u64>>,
    /// Tag 6: paddings.
    pub paddings: Option<Vec<u64>>,
    /// Tag 10: EC curve.
    pub ec_curve: Option<u64>,
    /// Tag 11: ML-DSA parameter set (KeyMint 500).
    pub ml_dsa_variant: Option<u64>,
    /// Tag 200: RSA public exponent.
    pub rsa_public_exponent: Option<u64>,
    /// Tag 203: RSA-OAEP MGF digests.
    pub rsa_oaep_mgf_digests: Option<Vec<u64>>,
    /// Tag 303: rollback resistance.
    pub rollback_resistance: bool,
    /// Tag 305: usable only during early boot.
    pub early_boot_only: bool,
    /// Tag 400: not usable before (ms since the epoch).
    pub active_date_time: Option<u64>,
    /// Tag 401: origination expiry (ms).
    pub origination_expire_date_time: Option<u64>,
    /// Tag 402: usage expiry (ms).
    pub usage_expire_date_time: Option<u64>,
    /// Tag 405: usage count limit.
    pub usage_count_limit: Option<u64>,
    /// Tag 503: no user authentication required.
    pub no_auth_required: bool,
    /// Tag 504: user authentication types (bit field).
    pub user_auth_type: Option<u64>,
    /// Tag 505: authentication validity in seconds.
    pub auth_timeout: Option<u64>,
    /// Tag 506: stays usable while on the body.
    pub allow_while_on_body: bool,
    /// Tag 507: test of user presence required.
    pub trusted_user_presence_required: bool,
    /// Tag 508: trusted confirmation required.
    pub trusted_confirmation_required: bool,
    /// Tag 509: usable only while the device is unlocked.
    pub unlocked_device_required: bool,
    /// Tag 600: usable by all applications (Keymaster 2).
    pub all_applications: bool,
    /// Tag 601: application id (Keymaster 2).
    pub application_id: Option<Vec<u8>>,
    /// Tag 701: creation time (ms since the epoch).
    pub creation_date_time: Option<u64>,
    /// Tag 702: origin.
    pub origin: Option<Origin>,
    /// Tag 703: rollback resistant (Keymaster 2 and 3).
    pub rollback_resistant: bool,
    /// Tag 704: root of trust.
    pub root_of_trust: Option<RootOfTrust>,
    /// Tag 705: OS version, e.g. 140000 for Android 14.
    pub os_version: Option<u64>,
    /// Tag 706: OS patch level, `YYYYMM`.
    pub os_patch_level: Option<u64>,
    /// Tag 709: attested application id, parsed.
    pub attestation_application_id: Option<AttestationApplicationId>,
    /// Tag 710: brand.
    pub attestation_id_brand: Option<Vec<u8>>,
    /// Tag 711: device.
    pub attestation_id_device: Option<Vec<u8>>,
    /// Tag 712: product.
    pub attestation_id_product: Option<Vec<u8>>,
    /// Tag 713: serial number.
    pub attestation_id_serial: Option<Vec<u8>>,
    /// Tag 714: IMEI.
    pub attestation_id_imei: Option<Vec<u8>>,
    /// Tag 715: MEID.
    pub attestation_id_meid: Option<Vec<u8>>,
    /// Tag 716: manufacturer.
    pub attestation_id_manufacturer: Option<Vec<u8>>,
    /// Tag 717: model.
    pub attestation_id_model: Option<Vec<u8>>,
    /// Tag 718: vendor patch level.
    pub vendor_patch_level: Option<u64>,
    /// Tag 719: boot patch level.
    pub boot_patch_level: Option<u64>,
    /// Tag 720: device-unique attestation.
    pub device_unique_attestation: bool,
    /// Tag 723: second IMEI.
    pub attestation_id_second_imei: Option<Vec<u8>>,
    /// Tag 724: APEX module hash.
    pub module_hash: Option<Vec<u8>>,
    /// Tags this code does not know, in order of appearance.
    pub unknown_tags: Vec<u32>,
    /// Whether the tags appeared in ascending order, as DER requires (some
    /// devices emit them out of order; Google's verifier only logs it).
    pub tags_in_order: bool,
}

/// The whole extension.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct KeyDescription {
    /// Schema version (1-4, 41, 100, 200, 300, 400, 500...).
    pub attestation_version: u64,
    /// Where the attestation was produced.
    pub attestation_security_level: SecurityLevel,
    /// Keymaster or KeyMint version.
    pub key_mint_version: u64,
    /// Where the key lives.
    pub key_mint_security_level: SecurityLevel,
    /// The challenge the app passed to `setAttestationChallenge`.
    pub attestation_challenge: Vec<u8>,
    /// The unique id (empty unless requested by a system app).
    pub unique_id: Vec<u8>,
    /// Properties enforced by software.
    pub software_enforced: AuthorizationList,
    /// Properties enforced by the secure hardware.
    pub hardware_enforced: AuthorizationList,
}

/// Reads a `KeyDescription` from the extension's value (the bytes inside the
/// extension's OCTET STRING).
pub fn parse_key_description(bytes: &[u8]) -> Result<KeyDescription, KeyDescriptionError> {
    let top = whole(bytes, "KeyDescription")?;
    let items = constructed(&top, Tag::Sequence, "KeyDescription")?;
    if items.len() != 8 {
        return Err(malformed(
            "KeyDescription",
            format!("{} elements, expected 8", items.len()),
        ));
    }
    Ok(KeyDescription {
        attestation_version: integer(&items[0], "attestationVersion")?,
        attestation_security_level: SecurityLevel::from_code(
            enumerated(&items[1], "attestationSecurityLevel")?,
            "attestationSecurityLevel",
        )?,
        key_mint_version: integer(&items[2], "keyMintVersion")?,
        key_mint_security_level: SecurityLevel::from_code(
            enumerated(&items[3], "keyMintSecurityLevel")?,
            "keyMintSecurityLevel",
        )?,
        attestation_challenge: octets(&items[4], "attestationChallenge")?,
        unique_id: octets(&items[5], "uniqueId")?,
        software_enforced: authorization_list(&items[6], "softwareEnforced")?,
        hardware_enforced: authorization_list(&items[7], "hardwareEnforced")?,
    })
}

/// One BER element filling all of `bytes`.
fn whole<'a>(bytes: &'a [u8], field: &str) -> Result<Any<'a>, KeyDescriptionError> {
    let (rest, any) = Any::from_ber(bytes).map_err(|e| malformed(field, e.to_string()))?;
    if !rest.is_empty() {
        return Err(malformed(field, "trailing bytes"));
    }
    Ok(any)
}

/// The elements of a universal SEQUENCE or SET.
fn constructed<'a>(
    any: &Any<'a>,
    tag: Tag,
    field: &str,
) -> Result<Vec<Any<'a>>, KeyDescriptionError> {
    if any.header.class() != Class::Universal
        || any.header.tag() != tag
        || !any.header.is_constructed()
    {
        return Err(malformed(
            field,
            format!("expected {tag}, found {}", any.header.tag()),
        ));
    }
    let mut rest = any.data;
    let mut out = Vec::new();
    while !rest.is_empty() {
        if out.len() == MAX_ELEMENTS {
            return Err(malformed(
                field,
                format!("more than {MAX_ELEMENTS} elements"),
            ));
        }
        let (r, item) = Any::from_ber(rest).map_err(|e| malformed(field, e.to_string()))?;
        out.push(item);
        rest = r;
    }
    Ok(out)
}

fn integer(any: &Any<'_>, field: &str) -> Result<u64, KeyDescriptionError> {
    any.as_u64().map_err(|e| malformed(field, e.to_string()))
}

fn enumerated(any: &Any<'_>, field: &str) -> Result<u32, KeyDescriptionError> {
    any.as_enumerated()
        .map(|e| e.0)
        .map_err(|e| malformed(field, e.to_string()))
}

fn octets(any: &Any<'_>, field: &str) -> Result<Vec<u8>, KeyDescriptionError> {
    any.as_octetstring()
        .map(|o| o.as_ref().to_vec())
        .map_err(|e| malformed(field, e.to_string()))
}

/// A BOOLEAN read as BER does: any non-zero content octet is true (some
/// devices write 0x01 where DER requires 0xFF).
fn lenient_bool(any: &Any<'_>, field: &str) -> Result<bool, KeyDescriptionError> {
    if any.header.class() != Class::Universal || any.header.tag() != Tag::Boolean {
        return Err(malformed(
            field,
            format!("expected BOOLEAN, found {}", any.header.tag()),
        ));
    }
    match any.data {
        [b] => Ok(*b != 0),
        _ => Err(malformed(field, "BOOLEAN content is not one octet")),
    }
}

fn integer_set(any: &Any<'_>, field: &str) -> Result<Vec<u64>, KeyDescriptionError> {
    constructed(any, Tag::Set, field)?
        .iter()
        .map(|i| integer(i, field))
        .collect()
}

fn null(any: &Any<'_>, field: &str) -> Result<bool, KeyDescriptionError> {
    any.as_null()
        .map(|_| true)
        .map_err(|e| malformed(field, e.to_string()))
}

fn root_of_trust(any: &Any<'_>) -> Result<RootOfTrust, KeyDescriptionError> {
    const F: &str = "rootOfTrust";
    let items = constructed(any, Tag::Sequence, F)?;
    if items.len() != 3 && items.len() != 4 {
        return Err(malformed(
            F,
            format!("{} elements, expected 3 or 4", items.len()),
        ));
    }
    let verified_boot_state = match enumerated(&items[2], "verifiedBootState")? {
        0 => VerifiedBootState::Verified,
        1 => VerifiedBootState::SelfSigned,
        2 => VerifiedBootState::Unverified,
        3 => VerifiedBootState::Failed,
        v => return Err(malformed("verifiedBootState", format!("unknown value {v}"))),
    };
    Ok(RootOfTrust {
        verified_boot_key: octets(&items[0], "verifiedBootKey")?,
        device_locked: lenient_bool(&items[1], "deviceLocked")?,
        verified_boot_state,
        verified_boot_hash: items
            .get(3)
            .map(|h| octets(h, "verifiedBootHash"))
            .transpose()?,
    })
}

/// Tag 709 wraps a DER `AttestationApplicationId` in an OCTET STRING.
fn attestation_application_id(
    any: &Any<'_>,
) -> Result<AttestationApplicationId, KeyDescriptionError> {
    const F: &str = "attestationApplicationId";
    let inner = octets(any, F)?;
    let top = whole(&inner, F)?;
    let items = constructed(&top, Tag::Sequence, F)?;
    if items.len() != 2 {
        return Err(malformed(
            F,
            format!("{} elements, expected 2", items.len()),
        ));
    }
    let packages = constructed(&items[0], Tag::Set, "packageInfos")?
        .iter()
        .map(|p| {
            let fields = constructed(p, Tag::Sequence, "packageInfo")?;
            if fields.len() != 2 {
                return Err(malformed("packageInfo", "expected 2 elements"));
            }
            let name = String::from_utf8(octets(&fields[0], "packageName")?)
                .map_err(|_| malformed("packageName", "not UTF-8"))?;
            Ok(AttestationPackageInfo {
                name,
                version: integer(&fields[1], "version")?,
            })
        })
        .collect::<Result<_, _>>()?;
    let signature_digests = constructed(&items[1], Tag::Set, "signatureDigests")?
        .iter()
        .map(|d| octets(d, "signatureDigest"))
        .collect::<Result<_, _>>()?;
    Ok(AttestationApplicationId {
        packages,
        signature_digests,
    })
}

fn authorization_list(
    any: &Any<'_>,
    field: &str,
) -> Result<AuthorizationList, KeyDescriptionError> {
    let mut list = AuthorizationList {
        tags_in_order: true,
        ..AuthorizationList::default()
    };
    let mut seen: Vec<u32> = Vec::new();
    for item in constructed(any, Tag::Sequence, field)? {
        if item.header.class() != Class::ContextSpecific || !item.header.is_constructed() {
            return Err(malformed(field, "element is not an explicit [tag]"));
        }
        let tag = item.header.tag().0;
        if seen.contains(&tag) {
            return Err(KeyDescriptionError::DuplicateTag(tag));
        }
        if seen.last().is_some_and(|last| *last > tag) {
            list.tags_in_order = false;
        }
        seen.push(tag);
        let name = format!("{field} tag {tag}");
        let v = whole(item.data, &name)?;
        let f = name.as_str();
        match tag {
            1 => list.purposes = Some(integer_set(&v, f)?),
            2 => list.algorithm = Some(integer(&v, f)?),
            3 => list.key_size = Some(integer(&v, f)?),
            4 => list.block_modes = Some(integer_set(&v, f)?),
            5 => list.digests = Some(integer_set(&v, f)?),
            6 => list.paddings = Some(integer_set(&v, f)?),
            10 => list.ec_curve = Some(integer(&v, f)?),
            11 => list.ml_dsa_variant = Some(integer(&v, f)?),
            200 => list.rsa_public_exponent = Some(integer(&v, f)?),
            203 => list.rsa_oaep_mgf_digests = Some(integer_set(&v, f)?),
            303 => list.rollback_resistance = null(&v, f)?,
            305 => list.early_boot_only = null(&v, f)?,
            400 => list.active_date_time = Some(integer(&v, f)?),
            401 => list.origination_expire_date_time = Some(integer(&v, f)?),
            402 => list.usage_expire_date_time = Some(integer(&v, f)?),
            405 => list.usage_count_limit = Some(integer(&v, f)?),
            503 => list.no_auth_required = null(&v, f)?,
            504 => list.user_auth_type = Some(integer(&v, f)?),
            505 => list.auth_timeout = Some(integer(&v, f)?),
            506 => list.allow_while_on_body = null(&v, f)?,
            507 => list.trusted_user_presence_required = null(&v, f)?,
            508 => list.trusted_confirmation_required = null(&v, f)?,
            509 => list.unlocked_device_required = null(&v, f)?,
            600 => list.all_applications = null(&v, f)?,
            601 => list.application_id = Some(octets(&v, f)?),
            701 => list.creation_date_time = Some(integer(&v, f)?),
            702 => list.origin = Some(Origin::from_code(integer(&v, f)?)),
            703 => list.rollback_resistant = null(&v, f)?,
            704 => list.root_of_trust = Some(root_of_trust(&v)?),
            705 => list.os_version = Some(integer(&v, f)?),
            706 => list.os_patch_level = Some(integer(&v, f)?),
            709 => list.attestation_application_id = Some(attestation_application_id(&v)?),
            710 => list.attestation_id_brand = Some(octets(&v, f)?),
            711 => list.attestation_id_device = Some(octets(&v, f)?),
            712 => list.attestation_id_product = Some(octets(&v, f)?),
            713 => list.attestation_id_serial = Some(octets(&v, f)?),
            714 => list.attestation_id_imei = Some(octets(&v, f)?),
            715 => list.attestation_id_meid = Some(octets(&v, f)?),
            716 => list.attestation_id_manufacturer = Some(octets(&v, f)?),
            717 => list.attestation_id_model = Some(octets(&v, f)?),
            718 => list.vendor_patch_level = Some(integer(&v, f)?),
            719 => list.boot_patch_level = Some(integer(&v, f)?),
            720 => list.device_unique_attestation = null(&v, f)?,
            723 => list.attestation_id_second_imei = Some(octets(&v, f)?),
            724 => list.module_hash = Some(octets(&v, f)?),
            other => list.unknown_tags.push(other),
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RootOfTrust { key: '', locked: BOOLEAN 0x01 (BER), state: 2, }
    const ROT_BER_TRUE: &[u8] = &[0x30, 0x08, 0x04, 0x00, 0x01, 0x01, 0x01, 0x0a, 0x01, 0x02];

    #[test]
    fn ber_boolean_reads_as_true() {
        let (_, any) = Any::from_ber(ROT_BER_TRUE).unwrap();
        let rot = root_of_trust(&any).unwrap();
        assert!(rot.device_locked);
        assert_eq!(rot.verified_boot_state, VerifiedBootState::Unverified);
        assert_eq!(rot.verified_boot_hash, None);
    }

    #[test]
    fn boolean_zero_is_false_and_long_boolean_is_refused() {
        let mut b = ROT_BER_TRUE.to_vec();
        b[6] = 0x00;
        let (_, any) = Any::from_ber(&b).unwrap();
        assert!(!root_of_trust(&any).unwrap().device_locked);
        let long = [
            0x30, 0x09, 0x04, 0x00, 0x01, 0x02, 0x01, 0x01, 0x0a, 0x01, 0x02,
        ];
        let (_, any) = Any::from_ber(&long).unwrap();
        assert!(root_of_trust(&any).is_err());
    }

    #[test]
    fn duplicate_tags_are_refused_and_unknown_tags_kept() {
        // [705] INTEGER 1, [705] INTEGER 2
        let dup = [
            0x30, 0x0e, 0xbf, 0x85, 0x41, 0x03, 0x02, 0x01, 0x01, 0xbf, 0x85, 0x41, 0x03, 0x02,
            0x01, 0x02,
        ];
        let (_, any) = Any::from_ber(&dup).unwrap();
        assert_eq!(
            authorization_list(&any, "t"),
            Err(KeyDescriptionError::DuplicateTag(705))
        );
        // [799] INTEGER 1, [705] INTEGER 2: unknown kept, order noted.
        let unk = [
            0x30, 0x0e, 0xbf, 0x86, 0x1f, 0x03, 0x02, 0x01, 0x01, 0xbf, 0x85, 0x41, 0x03, 0x02,
            0x01, 0x02,
        ];
        let (_, any) = Any::from_ber(&unk).unwrap();
        let list = authorization_list(&any, "t").unwrap();
        assert_eq!(list.unknown_tags, vec![799]);
        assert_eq!(list.os_version, Some(2));
        assert!(!list.tags_in_order);
    }

    #[test]
    fn truncated_and_trailing_input_is_refused() {
        assert!(parse_key_description(&[0x30, 0x05, 0x02, 0x01]).is_err());
        assert!(parse_key_description(&[0x30, 0x00, 0x00]).is_err());
        assert!(parse_key_description(&[]).is_err());
    }
}
