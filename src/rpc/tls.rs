//! TLS for the RPC port through rustls, as monerod's `--rpc-ssl`: `enabled` (TLS only),
//! `disabled` (plain only) or `autodetect` (monerod's default: a connection whose first
//! byte opens a TLS handshake gets TLS, any other is served plain). The certificate is
//! `--rpc-ssl-certificate`/`--rpc-ssl-private-key` (PEM), or, when none is given, a
//! self-signed one generated at start and kept in memory, as monerod does.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// `--rpc-ssl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SslMode {
    /// TLS only: a plaintext client gets no answer.
    Enabled,
    /// Plain HTTP only.
    Disabled,
    /// TLS when the client starts a TLS handshake, plain HTTP otherwise.
    Autodetect,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing usable.
    #[error("{path}: {why}")]
    Pem {
        /// The file.
        path: String,
        /// What was wrong.
        why: String,
    },
    /// Only one of the certificate and the key was given.
    #[error("--rpc-ssl-certificate and --rpc-ssl-private-key go together")]
    HalfGiven,
    /// Generating the self-signed certificate failed.
    #[error("self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate and key.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A ready acceptor and the mode it serves.
#[derive(Clone)]
pub struct TlsSetup {
    /// `--rpc-ssl`.
    pub mode: SslMode,
    /// Accepts TLS connections.
    pub acceptor: futures_rustls::TlsAcceptor,
    /// The certificate served (DER), for logs and tests.
    pub certificate: CertificateDer<'static>,
}

impl TlsSetup {
    /// The TLS side for `mode` (`None` when disabled), from the given PEM files or a
    /// fresh self-signed certificate.
    pub fn new(
        mode: SslMode,
        certificate: Option<&Path>,
        private_key: Option<&Path>,
    ) -> Result<Option<Self>, TlsError> {
        if mode == SslMode::Disabled {
            return Ok(None);
        }
        let (chain, key) = match (certificate, private_key) {
            (Some(c), Some(k)) => load_pem(c, k)?,
            (None, None) => self_signed()?,
            _ => return Err(TlsError::HalfGiven),
        };
        let first = chain.first().cloned().ok_or_else(|| TlsError::Pem {
            path: "certificate".into(),
            why: "no certificate".into(),
        })?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        Ok(Some(TlsSetup {
            mode,
            acceptor: futures_rustls::TlsAcceptor::from(Arc::new(config)),
            certificate: first,
        }))
    }
}

fn load_pem(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let bad = |p: &Path, why: String| TlsError::Pem {
        path: p.display().to_string(),
        why,
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(bad(cert, "no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, e.to_string()))?;
    Ok((chain, key))
}

/// A self-signed certificate for `localhost`, made now and never written to disk.
fn self_signed() -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()));
    Ok((vec![made.cert.der().clone()], key))
}
