//! Certificate chains to check pins against: supplied offline (`--chain
//! host=FILE.pem`) or fetched from the server (`--live host[:port]`).
//!
//! The live fetch uses rustls with a verifier that accepts anything and only
//! records what the server presented: the audit wants to see the chain the
//! server serves, not to trust it. Nothing is sent after the handshake.
//! Connect and read timeouts keep an unreachable host from hanging an audit.

use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use time::OffsetDateTime;

use crate::pinning::Pin;
use crate::pinning::pin::wrap_der_sequence;
use crate::pinning::tls::HandshakeSignatures;

/// The SHA-1 of an SPKI, for OkHttp `sha1/` pins (legacy, as OkHttp checks them).
fn spki_sha1(spki: &[u8]) -> [u8; 20] {
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, spki);
    d.as_ref().try_into().expect("SHA-1 is 20 bytes")
}

/// One certificate of a chain, as the rules need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// SPKI pin.
    pub pin: Pin,
    /// SHA-1 of the SPKI (what an OkHttp `sha1/` pin is compared with).
    pub spki_sha1: [u8; 20],
    /// Subject (RFC 4514).
    pub subject: String,
    /// Validity start.
    pub not_before: OffsetDateTime,
    /// Validity end.
    pub not_after: OffsetDateTime,
    /// Whether this is a trust anchor added from the Mozilla roots (not served).
    pub from_root_store: bool,
}

/// A chain for one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuppliedChain {
    /// The host the chain is for.
    pub host: String,
    /// Where it came from (`file.pem` or `live host:port`).
    pub source: String,
    /// Leaf first, then what followed; plus the Mozilla root that issued
    /// the last certificate, when one did (pins on roots match at run time).
    pub certs: Vec<CertInfo>,
}

/// Why a chain could not be obtained.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// `--chain` argument is not `host=FILE`.
    #[error("a supplied chain must be given as host=FILE.pem, got {0:?}")]
    Argument(String),
    /// The file could not be read or holds no certificate.
    #[error("{file}: {reason}")]
    File {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The host name did not resolve.
    #[error("{host}: cannot resolve: {reason}")]
    Resolve {
        /// host:port.
        host: String,
        /// The resolver's message.
        reason: String,
    },
    /// The TCP connection was refused or failed.
    #[error("{host}: cannot connect: {reason}")]
    Connect {
        /// host:port.
        host: String,
        /// The OS message.
        reason: String,
    },
    /// No answer within the timeout.
    #[error("{host}: timed out after {secs} s {during}")]
    Timeout {
        /// host:port.
        host: String,
        /// The timeout.
        secs: u64,
        /// `connecting` or `waiting for the TLS handshake`.
        during: &'static str,
    },
    /// The TLS handshake failed before the server sent certificates.
    #[error("{host}: TLS handshake failed: {reason}")]
    Tls {
        /// host:port.
        host: String,
        /// rustls's message.
        reason: String,
    },
}

impl SuppliedChain {
    /// Builds the chain from DER certificates (leaf first).
    pub fn from_der(host: &str, source: &str, ders: &[Vec<u8>]) -> Result<Self, ChainError> {
        let mut certs = Vec::with_capacity(ders.len() + 1);
        let mut last_issuer: Option<Vec<u8>> = None;
        for der in ders {
            let (_, c) =
                x509_parser::parse_x509_certificate(der).map_err(|e| ChainError::File {
                    file: source.to_owned(),
                    reason: format!("certificate could not be parsed: {e}"),
                })?;
            certs.push(CertInfo {
                pin: Pin::of_spki(c.tbs_certificate.subject_pki.raw),
                spki_sha1: spki_sha1(c.tbs_certificate.subject_pki.raw),
                subject: c.subject().to_string(),
                not_before: c.validity().not_before.to_datetime(),
                not_after: c.validity().not_after.to_datetime(),
                from_root_store: false,
            });
            last_issuer = Some(c.issuer().as_raw().to_vec());
        }
        if let Some(issuer) = last_issuer {
            // The Mozilla root that issued the last certificate: NSC, TrustKit
            // and Mamori match pins against the verified path, which ends in
            // the store's anchor even when the server does not send it.
            let wrapped_issuer = issuer;
            for root in webpki_roots::TLS_SERVER_ROOTS {
                if wrap_der_sequence(root.subject.as_ref()) == wrapped_issuer {
                    let spki = wrap_der_sequence(root.subject_public_key_info.as_ref());
                    let pin = Pin::of_spki(&spki);
                    if !certs.iter().any(|c| c.pin == pin) {
                        certs.push(CertInfo {
                            pin,
                            spki_sha1: spki_sha1(&spki),
                            subject: "(Mozilla root store)".into(),
                            not_before: OffsetDateTime::UNIX_EPOCH,
                            not_after: OffsetDateTime::UNIX_EPOCH,
                            from_root_store: true,
                        });
                    }
                }
            }
        }
        Ok(Self {
            host: host.trim().to_ascii_lowercase(),
            source: source.to_owned(),
            certs,
        })
    }

    /// Reads `host=FILE.pem` (PEM with any number of certificates, or DER).
    pub fn from_arg(arg: &str) -> Result<Self, ChainError> {
        let (host, file) = arg
            .split_once('=')
            .filter(|(h, f)| !h.is_empty() && !f.is_empty())
            .ok_or_else(|| ChainError::Argument(arg.to_owned()))?;
        Self::from_file(host, Path::new(file))
    }

    /// Reads a chain file for `host`.
    pub fn from_file(host: &str, path: &Path) -> Result<Self, ChainError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ChainError::File {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        let ders = crate::pinning::certs::certificates_from_bytes(&bytes).map_err(|e| {
            ChainError::File {
                file: file.clone(),
                reason: e.to_string(),
            }
        })?;
        if ders.is_empty() {
            return Err(ChainError::File {
                file,
                reason: "no certificate found".into(),
            });
        }
        Self::from_der(host, &file, &ders)
    }

    /// `--live host[:port]` (port 443 by default, `[v6]:port` accepted):
    /// fetches the chain the host serves and describes it.
    pub fn live(arg: &str, timeout: Duration) -> Result<Self, ChainError> {
        let (host, port) = split_host_port(arg);
        let ders = fetch_live(&host, port, None, timeout)?;
        Self::from_der(&host, &format!("live {host}:{port}"), &ders)
    }

    /// The served leaf.
    pub fn leaf(&self) -> Option<&CertInfo> {
        self.certs.first()
    }
}

/// Captures the presented chain and accepts it (audit use only).
#[derive(Debug)]
struct Capture {
    chain: Mutex<Option<Vec<Vec<u8>>>>,
    signatures: HandshakeSignatures,
}

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut all = vec![end_entity.as_ref().to_vec()];
        all.extend(intermediates.iter().map(|c| c.as_ref().to_vec()));
        *self.chain.lock().unwrap_or_else(|p| p.into_inner()) = Some(all);
        Ok(ServerCertVerified::assertion())
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

/// Splits `host[:port]` (port 443 by default; `[v6]:port` accepted).
fn split_host_port(arg: &str) -> (String, u16) {
    if let Some((h, p)) = arg.strip_prefix('[').and_then(|r| r.split_once(']')) {
        let port = p
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .unwrap_or(443);
        return (h.to_owned(), port);
    }
    match arg.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h.to_owned(), port),
            Err(_) => (arg.to_owned(), 443),
        },
        _ => (arg.to_owned(), 443),
    }
}

/// Fetches the chain `host:port` serves. `sni` is the name sent in the
/// handshake (defaults to `host`), `timeout` bounds connecting and each read.
fn fetch_live(
    host: &str,
    port: u16,
    sni: Option<&str>,
    timeout: Duration,
) -> Result<Vec<Vec<u8>>, ChainError> {
    let target = format!("{host}:{port}");
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| ChainError::Resolve {
            host: target.clone(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(ChainError::Resolve {
            host: target,
            reason: "no address".into(),
        });
    }
    let mut last = None;
    let mut stream = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let mut stream = match stream {
        Some(s) => s,
        None => {
            let e = last.expect("at least one address was tried");
            return Err(
                if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) {
                    ChainError::Timeout {
                        host: target,
                        secs: timeout.as_secs(),
                        during: "connecting",
                    }
                } else {
                    ChainError::Connect {
                        host: target,
                        reason: crate::io_reason(&e),
                    }
                },
            );
        }
    };
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let capture = Arc::new(Capture {
        chain: Mutex::new(None),
        signatures: HandshakeSignatures::ring(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ChainError::Tls {
            host: target.clone(),
            reason: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let name =
        ServerName::try_from(sni.unwrap_or(host).to_owned()).map_err(|e| ChainError::Tls {
            host: target.clone(),
            reason: format!("invalid server name: {e}"),
        })?;
    let mut conn = ClientConnection::new(Arc::new(config), name).map_err(|e| ChainError::Tls {
        host: target.clone(),
        reason: e.to_string(),
    })?;
    let deadline = std::time::Instant::now() + timeout * 2;
    while conn.is_handshaking() {
        if capture
            .chain
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(ChainError::Timeout {
                host: target,
                secs: timeout.as_secs(),
                during: "waiting for the TLS handshake",
            });
        }
        match conn.complete_io(&mut stream) {
            Ok((0, 0)) => {
                return Err(ChainError::Tls {
                    host: target,
                    reason: "the server closed the connection".into(),
                });
            }
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                return Err(ChainError::Timeout {
                    host: target,
                    secs: timeout.as_secs(),
                    during: "waiting for the TLS handshake",
                });
            }
            Err(e) => {
                if capture
                    .chain
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_some()
                {
                    break;
                }
                return Err(ChainError::Tls {
                    host: target,
                    reason: e.to_string(),
                });
            }
        }
    }
    let chain = capture
        .chain
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    chain.ok_or(ChainError::Tls {
        host: target,
        reason: "the server sent no certificate".into(),
    })
}
