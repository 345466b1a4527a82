//! Hardware attestation (guideline DEV-2): device facts signed by the device's
//! secure hardware rather than reported by the app.
//!
//! Every other device fact comes from the app itself, and a rooted phone with
//! a hooking framework can make the app report a clean device. Attestation
//! replaces "the app says" with "the TEE, StrongBox or Secure Enclave signed":
//!
//! - [`android`]: Android Key Attestation. A certificate chain from a key in
//!   the TEE or StrongBox up to one of Google's attestation roots, whose leaf
//!   carries the `KeyDescription` extension (verified-boot state, bootloader
//!   lock, patch levels, the calling app's package and signing certificate,
//!   the server's challenge).
//! - [`apple`]: Apple App Attest. A CBOR attestation object whose certificate
//!   chain ends at the Apple App Attestation Root CA, binding a Secure Enclave
//!   key to the app's App ID; and the assertions that key signs afterwards.
//!
//! - [`ChallengeStore`]: the server's side of freshness: random, single-use,
//!   expiring challenges, bounded in number.
//!
//! Both verifiers are pure functions of their input: the verification time is
//! always a parameter (never the wall clock), so a result can be reproduced
//! later from the same bytes. Inputs are bounded in size, count and nesting
//! depth before anything is parsed, so a hostile chain or object costs little
//! and cannot abort the process.
//!
//! The verifiers report the attested values; judging them (is an unlocked
//! bootloader acceptable? how old may the patch level be?) is the device
//! policy's business.

pub mod android;
pub mod apple;
mod challenge;
mod x509;

pub use challenge::{CHALLENGE_BYTES, Challenge, ChallengeError, ChallengeStore};

pub use android::{
    AndroidAttestation, AndroidError, AndroidOptions, AttestationApplicationId,
    AttestationPackageInfo, AuthorizationList, GoogleRoots, KeyDescription, KeyDescriptionError,
    Origin, Provisioning, RevocationEntry, RevocationError, RevocationList, RootKind, RootOfTrust,
    RootsError, SecurityLevel, VerifiedBootState, leaf_key_description, parse_key_description,
    verify_android, verify_android_pem,
};
pub use apple::{
    AppAttestAssertion, AppAttestation, AppleError, AppleOptions, AssertionOptions, Environment,
    apple_app_attestation_root, verify_app_attest, verify_assertion,
};

/// Largest input accepted as one attestation (a PEM chain, a CBOR object):
/// real ones are under 16 KiB.
pub const MAX_INPUT_BYTES: usize = 256 * 1024;

/// Most certificates accepted in one chain: real Android chains have 3 to 5,
/// App Attest chains 2.
pub const MAX_CHAIN_CERTIFICATES: usize = 8;

/// Largest single certificate accepted (DER bytes).
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}
