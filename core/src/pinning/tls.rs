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

use super::verify::{Decision, Failure, PinVerifier};

/// The error a blocked handshake carries (inside
/// `rustls::Error::InvalidCertificate(CertificateError::Other(..))`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("Mamori blocked the connection to {host}: {reason}")]
pub struct PinningError {
    /// The host.
    pub host: String,
    /// The decision's reason.
    pub reason: String,
    /// The full decision.
    pub decision: Box<Decision>,
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
    pub fn new(verifier: Arc<PinVerifier>) -> Self {
        Self {
            verifier,
            signatures: HandshakeSignatures::ring(),
            port: 443,
        }
    }

    /// The port written into failure reports (rustls does not tell the
    /// verifier; default 443).
    pub fn with_report_port(mut self, port: u16) -> Self {
        self.port = port;
        self
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
            Some(Failure::Chain(msg)) if msg.contains("expired") => CertificateError::Expired,
            Some(Failure::Chain(msg)) if msg.contains("not valid yet") => {
                CertificateError::NotValidYet
            }
            Some(Failure::Chain(msg)) if msg.contains("unknown issuer") => {
                CertificateError::UnknownIssuer
            }
            Some(Failure::Name(_)) => CertificateError::NotValidForName,
            _ => CertificateError::Other(OtherError(Arc::new(PinningError {
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
/// certificates are verified by `verifier`.
pub fn client_config(verifier: Arc<PinVerifier>) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinningServerVerifier::new(verifier)))
        .with_no_client_auth()
}
