//! Apple App Attest: the attestation object that binds a Secure Enclave key
//! to an app's App ID, and the assertions that key signs afterwards.
//!
//! The checks are Apple's, in the order of "Validating apps that connect to
//! your server" (Apple Developer documentation):
//!
//! 1. `attStmt.x5c` chains to the Apple App Attestation Root CA at the given
//!    time (webpki does the path building and signatures).
//! 2. nonce = SHA-256(authData ‖ clientDataHash) equals the credential
//!    certificate's extension 1.2.840.113635.100.8.2.
//! 3. keyId = SHA-256 of the credential certificate's public key (the
//!    uncompressed P-256 point), and equals the credential id in `authData`;
//!    the COSE key in `authData` is that same key (WebAuthn's rule for
//!    attested credentials; Apple's list leaves it out, but a server that
//!    stores the COSE key must not store another key than the attested one).
//! 4. rpIdHash = SHA-256(`TEAMID.bundle`).
//! 5. The sign counter is 0.
//! 6. The AAGUID is `appattestdevelop` (development) or `appattest` followed
//!    by seven zero bytes (production).
//!
//! The receipt is returned, not checked: checking it is optional in Apple's
//! steps and it is only useful to Apple's fraud-metric service, which Mamori
//! does not call. Authenticator data may carry an extensions map after the
//! COSE key without the ED flag (newer iOS); it is ignored.

mod auth_data;

use ciborium::Value;
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::asn1_rs::{Any, Class, FromDer, Tag};
use x509_parser::oid_registry::Oid;
use x509_parser::x509::SubjectPublicKeyInfo;

use self::auth_data::AuthData;
use super::x509::parse_certificate;
use super::{MAX_CHAIN_CERTIFICATES, MAX_INPUT_BYTES, sha256};

const APPLE_ROOT_PEM: &str = include_str!("../roots/apple_app_attestation_root.pem");
const NONCE_OID: &str = "1.2.840.113635.100.8.2";
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
/// CBOR nesting allowed in an attestation object (it needs 3).
const MAX_CBOR_DEPTH: usize = 8;

const AAGUID_DEVELOPMENT: &[u8; 16] = b"appattestdevelop";
const AAGUID_PRODUCTION: &[u8; 16] = b"appattest\0\0\0\0\0\0\0";

/// Why an App Attest attestation or assertion did not verify.
/// [`AppleError::step`] names the failed step in one word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppleError {
    /// The object is not the expected CBOR structure.
    #[error("decode: {0}")]
    Decode(String),
    /// `fmt` is not `apple-appattest`.
    #[error("format {0:?} is not apple-appattest")]
    Format(String),
    /// A certificate of `x5c` does not parse.
    #[error("certificate {index}: {reason}")]
    Certificate {
        /// Position in `x5c`.
        index: usize,
        /// Parser message.
        reason: String,
    },
    /// The chain does not verify (bad signature, bad extensions...).
    #[error("chain: {0}")]
    Chain(String),
    /// A certificate is expired or not yet valid at the verification time.
    #[error("validity: {0}")]
    Validity(String),
    /// The chain does not lead to the App Attestation root.
    #[error("the chain does not end at the Apple App Attestation Root CA")]
    UntrustedRoot,
    /// The authenticator data is too short or inconsistent.
    #[error("authenticator data: {0}")]
    AuthData(String),
    /// The nonce extension does not match SHA-256(authData ‖ clientDataHash).
    #[error("nonce: {0}")]
    Nonce(String),
    /// The key id does not match the credential key or the credential id.
    #[error("key id: {0}")]
    KeyId(String),
    /// rpIdHash is not SHA-256 of the App ID.
    #[error("rpIdHash is not SHA-256 of the App ID")]
    AppId,
    /// The counter is not the expected one (0 for an attestation, above the
    /// stored counter for an assertion).
    #[error("counter {found}: {reason}")]
    Counter {
        /// The counter in the authenticator data.
        found: u32,
        /// What was expected.
        reason: String,
    },
    /// The AAGUID is not the expected environment's.
    #[error("AAGUID {aaguid:?} is not the expected environment's")]
    Environment {
        /// The AAGUID found, lossily as text.
        aaguid: String,
    },
    /// The public key given for an assertion is not a P-256 key.
    #[error("public key: {0}")]
    PublicKey(String),
    /// The assertion's signature does not verify.
    #[error("the assertion signature does not verify")]
    Signature,
}

impl AppleError {
    /// The failed step in one word: `decode`, `format`, `certificate`,
    /// `chain`, `validity`, `root`, `auth_data`, `nonce`, `key_id`, `app_id`,
    /// `counter`, `environment`, `public_key` or `signature`.
    pub fn step(&self) -> &'static str {
        match self {
            Self::Decode(_) => "decode",
            Self::Format(_) => "format",
            Self::Certificate { .. } => "certificate",
            Self::Chain(_) => "chain",
            Self::Validity(_) => "validity",
            Self::UntrustedRoot => "root",
            Self::AuthData(_) => "auth_data",
            Self::Nonce(_) => "nonce",
            Self::KeyId(_) => "key_id",
            Self::AppId => "app_id",
            Self::Counter { .. } => "counter",
            Self::Environment { .. } => "environment",
            Self::PublicKey(_) => "public_key",
            Self::Signature => "signature",
        }
    }
}

/// The App Attest environment, from the AAGUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Environment {
    /// `appattest` followed by zero bytes.
    Production,
    /// `appattestdevelop`.
    Development,
}

impl Environment {
    /// The JSON word: `production` or `development`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Development => "development",
        }
    }
}

/// The bundled Apple App Attestation Root CA (DER), with its source in
/// `core/src/attestation/roots/apple_app_attestation_root.pem`.
pub fn apple_app_attestation_root() -> Vec<u8> {
    CertificateDer::from_pem_slice(APPLE_ROOT_PEM.as_bytes())
        .expect("bundled root is valid PEM")
        .as_ref()
        .to_vec()
}

/// What to verify an attestation object against.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AppleOptions<'a> {
    /// Trusted roots (DER); normally [`apple_app_attestation_root`].
    pub roots: &'a [Vec<u8>],
    /// Verification time (never the wall clock: pass it in).
    pub time: UnixTime,
    /// `TEAMID.bundle`.
    pub app_id: &'a str,
    /// The key id the app reported (32 bytes).
    pub key_id: &'a [u8],
    /// clientDataHash, used as given: nonce = SHA-256(authData ‖ it).
    pub client_data_hash: &'a [u8],
    /// Require this environment; `None` accepts either and reports it.
    pub environment: Option<Environment>,
}

impl<'a> AppleOptions<'a> {
    /// Options accepting either environment.
    pub fn new(
        roots: &'a [Vec<u8>],
        time: UnixTime,
        app_id: &'a str,
        key_id: &'a [u8],
        client_data_hash: &'a [u8],
    ) -> Self {
        Self {
            roots,
            time,
            app_id,
            key_id,
            client_data_hash,
            environment: None,
        }
    }
}

/// A verified attestation.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct AppAttestation {
    /// Production or development, from the AAGUID.
    pub environment: Environment,
    /// The App ID the key is bound to.
    pub app_id: String,
    /// SHA-256 of the credential public key.
    pub key_id: [u8; 32],
    /// The sign counter (0).
    pub counter: u32,
    /// The credential key as a SubjectPublicKeyInfo (DER): store it to check
    /// assertions.
    pub public_key_spki: Vec<u8>,
    /// The receipt, unchecked, for Apple's fraud-metric service.
    pub receipt: Vec<u8>,
}

/// What to verify an assertion against.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AssertionOptions<'a> {
    /// The key stored at attestation, as a SubjectPublicKeyInfo (DER).
    pub public_key_spki: &'a [u8],
    /// `TEAMID.bundle`.
    pub app_id: &'a str,
    /// SHA-256 of the client data the app signed.
    pub client_data_hash: &'a [u8],
    /// The counter stored after the previous assertion (0 after attestation).
    pub previous_counter: u32,
}

impl<'a> AssertionOptions<'a> {
    /// All the inputs an assertion needs.
    pub fn new(
        public_key_spki: &'a [u8],
        app_id: &'a str,
        client_data_hash: &'a [u8],
        previous_counter: u32,
    ) -> Self {
        Self {
            public_key_spki,
            app_id,
            client_data_hash,
            previous_counter,
        }
    }
}

/// A verified assertion.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct AppAttestAssertion {
    /// The new counter: store it.
    pub counter: u32,
}

/// Verifies a raw CBOR attestation object.
pub fn verify_app_attest(
    object: &[u8],
    options: &AppleOptions<'_>,
) -> Result<AppAttestation, AppleError> {
    let map = decode_map(object)?;
    let fmt = text(field(&map, "fmt")?, "fmt")?;
    if fmt != "apple-appattest" {
        return Err(AppleError::Format(fmt.to_owned()));
    }
    let stmt = match field(&map, "attStmt")? {
        Value::Map(m) => m,
        _ => return Err(AppleError::Decode("attStmt is not a map".into())),
    };
    let auth_data = bytes(field(&map, "authData")?, "authData")?;
    let x5c = match field(stmt, "x5c")? {
        Value::Array(a) if !a.is_empty() && a.len() <= MAX_CHAIN_CERTIFICATES => a
            .iter()
            .map(|c| bytes(c, "x5c").map(|b| CertificateDer::from(b.to_vec())))
            .collect::<Result<Vec<_>, _>>()?,
        _ => {
            return Err(AppleError::Decode(
                "x5c is not a short non-empty array".into(),
            ));
        }
    };
    let receipt = bytes(field(stmt, "receipt")?, "receipt")?.to_vec();

    // 1. The chain.
    verify_chain(&x5c, options.roots, options.time)?;
    let cred = parse_certificate(&x5c[0])
        .map_err(|reason| AppleError::Certificate { index: 0, reason })?;

    // 2. The nonce.
    let expected = sha256(&[auth_data, options.client_data_hash]);
    if nonce_extension(&cred)? != expected {
        return Err(AppleError::Nonce(
            "certificate nonce is not SHA-256(authData || clientDataHash)".into(),
        ));
    }

    // 3. The key id.
    let spki = &cred.tbs_certificate.subject_pki;
    let point = p256_point(spki)?;
    let key_id = sha256(&[point]);
    if options.key_id != key_id {
        return Err(AppleError::KeyId(
            "SHA-256 of the credential key is not the key id".into(),
        ));
    }
    let auth = AuthData::parse(auth_data)?;
    let credential = auth.attested_credential()?;
    if credential.credential_id != key_id {
        return Err(AppleError::KeyId("credential id is not the key id".into()));
    }
    cose_key_is(credential.public_key, point)?;

    // 4. The App ID.
    if auth.rp_id_hash != sha256(&[options.app_id.as_bytes()]) {
        return Err(AppleError::AppId);
    }
    // 5. The counter.
    if auth.counter != 0 {
        return Err(AppleError::Counter {
            found: auth.counter,
            reason: "an attestation's counter must be 0".into(),
        });
    }
    // 6. The environment.
    let environment = match credential.aaguid {
        a if a == AAGUID_PRODUCTION => Environment::Production,
        a if a == AAGUID_DEVELOPMENT => Environment::Development,
        a => {
            return Err(AppleError::Environment {
                aaguid: String::from_utf8_lossy(a).into_owned(),
            });
        }
    };
    if options.environment.is_some_and(|e| e != environment) {
        return Err(AppleError::Environment {
            aaguid: String::from_utf8_lossy(credential.aaguid).into_owned(),
        });
    }
    Ok(AppAttestation {
        environment,
        app_id: options.app_id.to_owned(),
        key_id,
        counter: auth.counter,
        public_key_spki: spki.raw.to_vec(),
        receipt,
    })
}

/// Verifies a raw CBOR assertion (`signature`, `authenticatorData`).
pub fn verify_assertion(
    assertion: &[u8],
    options: &AssertionOptions<'_>,
) -> Result<AppAttestAssertion, AppleError> {
    let map = decode_map(assertion)?;
    let signature = bytes(field(&map, "signature")?, "signature")?;
    let auth_data = bytes(field(&map, "authenticatorData")?, "authenticatorData")?;
    let (rest, spki) = SubjectPublicKeyInfo::from_der(options.public_key_spki)
        .map_err(|e| AppleError::PublicKey(e.to_string()))?;
    if !rest.is_empty() {
        return Err(AppleError::PublicKey("trailing bytes".into()));
    }
    let point = p256_point(&spki).map_err(|e| AppleError::PublicKey(e.to_string()))?;
    let auth = AuthData::parse(auth_data)?;
    let nonce = sha256(&[auth_data, options.client_data_hash]);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
        .verify(&nonce, signature)
        .map_err(|_| AppleError::Signature)?;
    if auth.rp_id_hash != sha256(&[options.app_id.as_bytes()]) {
        return Err(AppleError::AppId);
    }
    if auth.counter <= options.previous_counter {
        return Err(AppleError::Counter {
            found: auth.counter,
            reason: format!("not above the stored counter {}", options.previous_counter),
        });
    }
    Ok(AppAttestAssertion {
        counter: auth.counter,
    })
}

fn verify_chain(
    x5c: &[CertificateDer<'_>],
    roots: &[Vec<u8>],
    time: UnixTime,
) -> Result<(), AppleError> {
    let anchors = roots
        .iter()
        .map(|r| {
            webpki::anchor_from_trusted_cert(&CertificateDer::from(r.as_slice()))
                .map(|a| a.to_owned())
                .map_err(|e| AppleError::Chain(format!("root: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ee = EndEntityCert::try_from(&x5c[0]).map_err(|e| AppleError::Certificate {
        index: 0,
        reason: e.to_string(),
    })?;
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &x5c[1..],
        time,
        KeyUsage::client_auth(),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| match e {
        webpki::Error::UnknownIssuer => AppleError::UntrustedRoot,
        webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
            AppleError::Validity(format!("{e:?}"))
        }
        other => AppleError::Chain(format!("{other:?}")),
    })
}

/// The 32-byte nonce in extension 1.2.840.113635.100.8.2:
/// `SEQUENCE { [1] EXPLICIT OCTET STRING }`.
fn nonce_extension(
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Result<[u8; 32], AppleError> {
    let oid: Oid<'static> = NONCE_OID.parse().expect("valid OID");
    let bad = |r: &str| AppleError::Nonce(format!("extension {NONCE_OID}: {r}"));
    let ext = cert
        .extensions()
        .iter()
        .find(|e| e.oid == oid)
        .ok_or_else(|| bad("absent"))?;
    let (rest, seq) = Any::from_der(ext.value).map_err(|e| bad(&e.to_string()))?;
    if !rest.is_empty() || seq.header.tag() != Tag::Sequence {
        return Err(bad("not one SEQUENCE"));
    }
    let (rest, tagged) = Any::from_der(seq.data).map_err(|e| bad(&e.to_string()))?;
    if !rest.is_empty()
        || tagged.header.class() != Class::ContextSpecific
        || tagged.header.tag() != Tag(1)
    {
        return Err(bad("expected one [1]"));
    }
    let (rest, octets) = Any::from_der(tagged.data).map_err(|e| bad(&e.to_string()))?;
    let octets = octets.as_octetstring().map_err(|e| bad(&e.to_string()))?;
    <[u8; 32]>::try_from(octets.as_ref())
        .ok()
        .filter(|_| rest.is_empty())
        .ok_or_else(|| bad("nonce is not 32 bytes"))
}

/// The uncompressed point of a P-256 SubjectPublicKeyInfo.
fn p256_point<'a>(spki: &'a SubjectPublicKeyInfo<'_>) -> Result<&'a [u8], AppleError> {
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    let point: &[u8] = &spki.subject_public_key.data;
    if spki.algorithm.algorithm.to_id_string() != OID_EC_PUBLIC_KEY
        || curve.as_deref() != Some(OID_P256)
        || point.len() != 65
        || point[0] != 0x04
    {
        return Err(AppleError::KeyId(
            "the key is not an uncompressed P-256 point".into(),
        ));
    }
    Ok(point)
}

/// Checks that the first CBOR item of `cose` is the COSE_Key (RFC 9053: kty
/// EC2 = 2, alg ES256 = -7, crv P-256 = 1, x and y of 32 bytes) of the
/// uncompressed P-256 `point`. Bytes after the item are not looked at.
fn cose_key_is(cose: &[u8], point: &[u8]) -> Result<(), AppleError> {
    let bad = |why: &str| AppleError::KeyId(format!("COSE key in authData: {why}"));
    let mut reader = cose;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_CBOR_DEPTH)
        .map_err(|e| bad(&e.to_string()))?;
    let Value::Map(map) = value else {
        return Err(bad("not a CBOR map"));
    };
    let get = |label: i64| -> Result<&Value, AppleError> {
        unique(&map, |k| {
            k.as_integer()
                .is_some_and(|i| i128::from(i) == i128::from(label))
        })
        .map_err(|e| match e {
            Lookup::Missing => bad(&format!("no label {label}")),
            Lookup::Twice => bad(&format!("label {label} appears twice")),
        })
    };
    let int = |label: i64| -> Result<i128, AppleError> {
        get(label)?
            .as_integer()
            .map(i128::from)
            .ok_or_else(|| bad(&format!("label {label} is not an integer")))
    };
    if int(1)? != 2 || int(3)? != -7 || int(-1)? != 1 {
        return Err(bad("not an ES256 key on P-256 (kty 2, alg -7, crv 1)"));
    }
    let coordinate = |label: i64| -> Result<&[u8], AppleError> {
        match get(label)? {
            Value::Bytes(b) if b.len() == 32 => Ok(b),
            _ => Err(bad(&format!("label {label} is not 32 bytes"))),
        }
    };
    if [coordinate(-2)?, coordinate(-3)?].concat() != point[1..] {
        return Err(bad("not the credential certificate's key"));
    }
    Ok(())
}

fn decode_map(input: &[u8]) -> Result<Vec<(Value, Value)>, AppleError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(AppleError::Decode(format!(
            "{} bytes (limit {MAX_INPUT_BYTES})",
            input.len()
        )));
    }
    let mut reader = input;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_CBOR_DEPTH)
        .map_err(|e| AppleError::Decode(e.to_string()))?;
    if !reader.is_empty() {
        return Err(AppleError::Decode(
            "trailing bytes after the CBOR item".into(),
        ));
    }
    match value {
        Value::Map(m) => Ok(m),
        _ => Err(AppleError::Decode("not a CBOR map".into())),
    }
}

/// The value under text key `name`; a key appearing twice is refused.
fn field<'m>(map: &'m [(Value, Value)], name: &str) -> Result<&'m Value, AppleError> {
    unique(map, |k| matches!(k, Value::Text(t) if t == name)).map_err(|e| match e {
        Lookup::Missing => AppleError::Decode(format!("no {name}")),
        Lookup::Twice => AppleError::Decode(format!("{name} appears twice")),
    })
}

/// Why [`unique`] found no single value.
enum Lookup {
    Missing,
    Twice,
}

/// The value of the one entry whose key `is_key` accepts. A key given twice is refused, not
/// resolved first-wins or last-wins: CBOR decoders disagree on duplicates (RFC 8949 §5.6), so
/// an object that two verifiers could read differently is not read at all.
fn unique(map: &[(Value, Value)], is_key: impl Fn(&Value) -> bool) -> Result<&Value, Lookup> {
    let mut found = map.iter().filter(|(k, _)| is_key(k)).map(|(_, v)| v);
    let value = found.next().ok_or(Lookup::Missing)?;
    if found.next().is_some() {
        return Err(Lookup::Twice);
    }
    Ok(value)
}

fn bytes<'v>(value: &'v Value, name: &str) -> Result<&'v [u8], AppleError> {
    match value {
        Value::Bytes(b) => Ok(b),
        _ => Err(AppleError::Decode(format!("{name} is not a byte string"))),
    }
}

fn text<'v>(value: &'v Value, name: &str) -> Result<&'v str, AppleError> {
    match value {
        Value::Text(t) => Ok(t),
        _ => Err(AppleError::Decode(format!("{name} is not a text string"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cose(entries: Vec<(i64, Value)>) -> Vec<u8> {
        let map = Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect());
        let mut out = Vec::new();
        ciborium::ser::into_writer(&map, &mut out).unwrap();
        out
    }

    fn es256(x: &[u8], y: &[u8]) -> Vec<(i64, Value)> {
        vec![
            (1, 2.into()),
            (3, (-7).into()),
            (-1, 1.into()),
            (-2, Value::Bytes(x.to_vec())),
            (-3, Value::Bytes(y.to_vec())),
        ]
    }

    #[test]
    fn cose_key_must_be_the_certificate_key() {
        let point: Vec<u8> = [&[4u8][..], &[7; 32], &[9; 32]].concat();
        let good = cose(es256(&[7; 32], &[9; 32]));
        cose_key_is(&good, &point).unwrap();
        // Extensions after the key are not read.
        cose_key_is(&[good.clone(), vec![0xa0]].concat(), &point).unwrap();

        let refused = |bytes: Vec<u8>, why: &str| {
            let err = cose_key_is(&bytes, &point).unwrap_err();
            assert_eq!(err.step(), "key_id");
            assert!(err.to_string().contains(why), "{err}");
        };
        refused(
            cose(es256(&[7; 32], &[8; 32])),
            "not the credential certificate's key",
        );
        refused(cose(es256(&[7; 31], &[9; 32])), "label -2 is not 32 bytes");
        let mut other_curve = es256(&[7; 32], &[9; 32]);
        other_curve[2].1 = 2.into();
        refused(cose(other_curve), "not an ES256 key");
        let mut twice = es256(&[7; 32], &[9; 32]);
        twice.push((-2, Value::Bytes(vec![7; 32])));
        refused(cose(twice), "label -2 appears twice");
        refused(cose(es256(&[7; 32], &[9; 32])[..4].to_vec()), "no label -3");
        refused(good[..good.len() - 3].to_vec(), "COSE key in authData");
        refused(vec![], "COSE key in authData");
        refused(cose(vec![]).into_iter().chain([0]).collect(), "no label 1");
    }

    #[test]
    fn hostile_cbor_fails_cleanly() {
        // A byte string claiming 2^64-1 bytes.
        let huge = [
            0xa1, 0x63, b'f', b'm', b't', 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(decode_map(&huge).unwrap_err().step(), "decode");
        // Arrays nested deeper than the bound.
        let deep = [0x81u8; 64];
        assert_eq!(decode_map(&deep).unwrap_err().step(), "decode");
        // Trailing bytes.
        assert_eq!(decode_map(&[0xa0, 0x00]).unwrap_err().step(), "decode");
        assert_eq!(decode_map(&[]).unwrap_err().step(), "decode");
    }

    #[test]
    fn bundled_root_parses() {
        let der = apple_app_attestation_root();
        let cert = parse_certificate(&der).unwrap();
        assert!(
            cert.subject()
                .to_string()
                .contains("Apple App Attestation Root CA")
        );
    }
}
