//! WebAuthn authenticator data as App Attest uses it: a fixed 37-byte head
//! (rpIdHash, flags, sign counter), then for attestations the attested
//! credential data (AAGUID, credential id, COSE key). Only the fields Apple's
//! checks need are read: the COSE key is handed on as the bytes after the
//! credential id (its one CBOR item is read by the caller, and whatever follows
//! it is ignored, since newer iOS releases append extensions without setting
//! the ED flag); assertions carry no credential data at all.

use super::AppleError;

/// The fixed head of the authenticator data.
pub(super) struct AuthData<'a> {
    pub(super) rp_id_hash: &'a [u8],
    pub(super) counter: u32,
    rest: &'a [u8],
}

/// The start of the attested credential data.
pub(super) struct AttestedCredential<'a> {
    pub(super) aaguid: &'a [u8; 16],
    pub(super) credential_id: &'a [u8],
    /// The bytes after the credential id: the COSE key, then any extensions.
    pub(super) public_key: &'a [u8],
}

impl<'a> AuthData<'a> {
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Self, AppleError> {
        let Some((head, rest)) = bytes.split_first_chunk::<37>() else {
            return Err(AppleError::AuthData(format!(
                "{} bytes, at least 37 expected",
                bytes.len()
            )));
        };
        let (rp_id_hash, tail) = head.split_at(32);
        let counter = u32::from_be_bytes([tail[1], tail[2], tail[3], tail[4]]);
        Ok(Self {
            rp_id_hash,
            counter,
            rest,
        })
    }

    pub(super) fn attested_credential(&self) -> Result<AttestedCredential<'a>, AppleError> {
        let short = || AppleError::AuthData("attested credential data is truncated".into());
        let (aaguid, rest) = self.rest.split_first_chunk::<16>().ok_or_else(short)?;
        let (len, rest) = rest.split_first_chunk::<2>().ok_or_else(short)?;
        let len = usize::from(u16::from_be_bytes(*len));
        let (credential_id, public_key) = rest.split_at_checked(len).ok_or_else(short)?;
        Ok(AttestedCredential {
            aaguid,
            credential_id,
            public_key,
        })
    }
}
