//! A rustls `ServerCertVerifier` that enforces a pin policy.
//!
//! Building a rustls `ClientConfig` from a policy pins every rustls client
//! (reqwest, ureq, hyper-rustls, tokio-rustls) without touching its code:
//! [`client_config`] returns a config whose certificate verification is
//! Mamori's. Handshake signatures are still checked by rustls with the
//! provider's algorithms.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, OtherError, SignatureScheme};

use super::failure::{ChainError, Failure};
use super::verify::{PinDecision, PinVerifier};

/// A handshake Mamori blocked, as rustls carries it (inside
/// `rustls::Error::InvalidCertificate(CertificateError::Other(..))`).
///
/// Named for the event, not `PinningError`: it is not an error in a policy
/// (that is [`super::PolicyError`]) but the refusal of one connection, and
/// it holds the whole decision that refused it. Failures rustls has a
/// variant for (expired, not yet valid, unknown issuer, wrong name) arrive as
/// that variant instead, so rustls clients can show their usual messages.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Mamori blocked the connection to {host}: {reason}")]
pub struct HandshakeBlocked {
    /// The host.
    pub host: String,
    /// The decision's reason.
    pub reason: String,
    /// The full decision.
    pub decision: Box<PinDecision>,
}

/// Enforces a [`PinVerifier`] inside rustls.
#[derive(Debug)]
pub struct PinningServerVerifier {
    verifier: Arc<PinVerifier>,
    signatures: HandshakeSignatures,
    port: u16,
}

/// Handshake-signature checks with ring's algorithms. Every Mamori
/// `ServerCertVerifier` (this one, and the audit's chain capture) differs only
/// in how it judges certificates; the signatures are checked this one way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HandshakeSignatures(WebPkiSupportedAlgorithms);

impl HandshakeSignatures {
    /// ring's signature verification algorithms, as rustls's ring provider has them.
    pub(crate) fn ring() -> Self {
        Self(rustls::crypto::ring::default_provider().signature_verification_algorithms)
    }

    /// For `ServerCertVerifier::verify_tls12_signature`.
    pub(crate) fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0)
    }

    /// For `ServerCertVerifier::verify_tls13_signature`.
    pub(crate) fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0)
    }

    /// For `ServerCertVerifier::supported_verify_schemes`.
    pub(crate) fn schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

impl PinningServerVerifier {
    /// Wraps `verifier`; handshake signatures use ring's algorithms.
    ///
    /// rustls does not tell a certificate verifier which port it connects
    /// to, so the caller does: `port` is written into failure reports. Give
    /// `0` when one configuration serves several ports; reports then say
    /// port 0 ("unknown"), as those from the FFI do when the TLS stack did
    /// not say.
    pub fn new(verifier: Arc<PinVerifier>, port: u16) -> Self {
        Self {
            verifier,
            signatures: HandshakeSignatures::ring(),
            port,
        }
    }
}

impl ServerCertVerifier for PinningServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let host = match server_name {
            ServerName::DnsName(d) => d.as_ref().to_owned(),
            ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
            _ => {
                return Err(rustls::Error::InvalidCertificate(
                    CertificateError::BadEncoding,
                ));
            }
        };
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.clone());
        chain.extend(intermediates.iter().cloned());
        let decision = self.verifier.verify(&host, self.port, &chain, now);
        if decision.is_allowed() {
            return Ok(ServerCertVerified::assertion());
        }
        let err = match &decision.failure {
            Some(Failure::Chain(ChainError::Expired)) => CertificateError::Expired,
            Some(Failure::Chain(ChainError::NotYetValid)) => CertificateError::NotValidYet,
            Some(Failure::Chain(ChainError::UnknownIssuer)) => CertificateError::UnknownIssuer,
            Some(Failure::Name(_)) => CertificateError::NotValidForName,
            _ => CertificateError::Other(OtherError(Arc::new(HandshakeBlocked {
                host: decision.host.clone(),
                reason: decision.reason.clone(),
                decision: Box::new(decision),
            }))),
        };
        Err(rustls::Error::InvalidCertificate(err))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.schemes()
    }
}

/// A rustls client configuration (ring provider, safe defaults) whose server
/// certificates are verified by `verifier`, for connections to `port` (the
/// port failure reports name; `0` when unknown, see
/// [`PinningServerVerifier::new`]).
pub fn client_config(verifier: Arc<PinVerifier>, port: u16) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinningServerVerifier::new(verifier, port)))
        .with_no_client_auth()
}
