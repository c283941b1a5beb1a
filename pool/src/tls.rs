//! TLS 1.3 credentials for identities that speak TLS instead of bTLS (`protocol = "tls13"`):
//! PEM files read into rustls configurations, on the crypto provider the workspace already uses
//! (aws-lc-rs), TLS 1.3 only.

use crate::config::TlsIdentity;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate", path.display()));
    }
    Ok(certs)
}

/// The roots that validate TLS peers.
pub fn root_store(roots: &[PathBuf]) -> Result<rustls::RootCertStore, String> {
    let mut store = rustls::RootCertStore::empty();
    for path in roots {
        for cert in certs(path)? {
            store
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(store)
}

/// Both roles' configurations of an identity with the certificate chain `cert` and the key
/// `key`, validating peers against `roots`.
pub fn identity(cert: &Path, key: &Path, roots: &[PathBuf]) -> Result<TlsIdentity, String> {
    let chain = certs(cert)?;
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain.clone(), private.clone_key())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_root_certificates(root_store(roots)?)
        .with_client_auth_cert(chain, private)
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    Ok(TlsIdentity {
        server: Arc::new(server),
        client: Arc::new(client),
    })
}
