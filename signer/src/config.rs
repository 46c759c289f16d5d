//! Command line and configuration checks.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use tokio_rustls::TlsAcceptor;
use zeroize::Zeroizing;

/// flare-wallet-signer: TPM-sealed Ethereum accounts as a JSON-RPC signing service.
#[derive(Parser, Debug)]
#[command(name = "flare-wallet-signer", version, about, long_about = None)]
pub struct Args {
    /// A state directory holding one TPM-sealed account (repeatable). The
    /// service is the only writer of these directories.
    #[arg(long = "account", value_name = "DIR", required = true)]
    pub accounts: Vec<PathBuf>,

    /// The TPM: device:/dev/tpmrm0, swtpm:path=SOCKET or swtpm:host=H,port=P.
    #[arg(long, value_name = "TCTI", env = "FLARE_WALLET_TPM")]
    pub tpm: Option<String>,

    /// The TPM trust roots: a PEM file or a folder of certificates (the TPM
    /// vendor's EK CA; Google's EK/AK CA for GCE vTPMs). The TPM's EK
    /// certificate must chain to one of them, or the TPM is refused.
    #[arg(long, value_name = "PATH", env = "FLARE_WALLET_TPM_ROOTS")]
    pub trust_roots: Option<PathBuf>,

    /// INSECURE: accept a TPM with no EK certificate, or one that does not
    /// chain to --trust-roots. Nothing then authenticates the TPM: a fake
    /// TPM or an interposer can read the keys. Accounts created this way
    /// record it, and their evidence says "unverified TPM".
    #[arg(long)]
    pub allow_unverified_tpm: bool,

    /// The IPC socket path.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/run/flare-wallet/signer.ipc"
    )]
    pub ipc: PathBuf,

    /// The group that may connect to the IPC socket.
    #[arg(long, value_name = "GROUP")]
    pub ipc_group: Option<String>,

    /// The IPC socket's mode, in octal.
    #[arg(long, value_name = "OCTAL", default_value = "660", value_parser = parse_mode)]
    pub ipc_mode: u32,

    /// Serve JSON-RPC over HTTP on this address (off unless given). Loopback
    /// needs --http-token-file or TLS client certificates; any other address
    /// needs TLS with client certificates.
    #[arg(long, value_name = "ADDR")]
    pub http_listen: Option<SocketAddr>,

    /// A file holding the bearer token HTTP clients must present.
    #[arg(long, value_name = "FILE")]
    pub http_token_file: Option<PathBuf>,

    /// The TLS certificate chain (PEM) of the HTTP endpoint.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The TLS private key (PEM) of the HTTP endpoint.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// The CA (PEM) that signs client certificates; with it, TLS clients
    /// must present one.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,

    /// Serve Prometheus metrics without authentication on this loopback address.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// The Ethereum node every other method is proxied to (http://).
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,

    /// How long the unsealed key lives: cached (until shutdown) or strict
    /// (unsealed for each signature).
    #[arg(long, value_enum, default_value = "cached")]
    pub key_mode: KeyModeArg,

    /// Create an account in each --account directory that has none, bound
    /// to --policy (or the default policy).
    #[arg(long)]
    pub create_missing: bool,

    /// The signing policy (JSON, as flare_policy shows it) of accounts made
    /// by --create-missing.
    #[arg(long, value_name = "FILE", requires = "create_missing")]
    pub policy: Option<PathBuf>,

    /// The owners of accounts made by --create-missing (JSON: {"owners":
    /// ["0x..", ...], "threshold": M}); they approve policy changes, owner
    /// changes and keystore exports. Without it the account is ownerless.
    #[arg(long, value_name = "FILE", requires = "create_missing")]
    pub owners: Option<PathBuf>,

    /// The key lock of accounts made by --create-missing: none (any local
    /// process with TPM access and the account file can unseal the key) or
    /// boot-once (one unseal per boot; the service keeps the key cached).
    /// Required with --policy or --owners.
    #[arg(long, value_enum, requires = "create_missing")]
    pub key_lock: Option<KeyLockArg>,

    /// The largest request accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_request_bytes: usize,

    /// Seconds a client may take to send one request.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub request_timeout: u64,

    /// Seconds an idle IPC connection stays open.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub idle_timeout: u64,

    /// Seconds SIGTERM waits for requests in flight.
    #[arg(long, value_name = "SECONDS", default_value_t = 15)]
    pub drain_timeout: u64,

    /// Seconds the upstream node has to answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub upstream_timeout: u64,

    /// Connections served at once on the IPC socket.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,

    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Check the configuration (files, permissions, addresses) and exit,
    /// without opening the TPM or binding anything.
    #[arg(long)]
    pub check_config: bool,
}

/// `--key-mode`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KeyModeArg {
    /// Keep the unsealed key in zeroizing memory until shutdown.
    Cached,
    /// Unseal for every signature.
    Strict,
}

/// `--key-lock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyLockArg {
    /// No lock: any local process with TPM access and the account file can
    /// unseal the key.
    None,
    /// Unseal once per boot (PCR 14 is extended after the unseal).
    BootOnce,
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

fn parse_mode(text: &str) -> Result<u32, String> {
    let mode =
        u32::from_str_radix(text, 8).map_err(|_| format!("{text:?} is not an octal mode"))?;
    if mode & !0o777 != 0 {
        return Err(format!("{text} is not a permission mode"));
    }
    if mode & 0o007 != 0 {
        return Err(format!(
            "mode {text} lets any local user connect; use 660 and --ipc-group"
        ));
    }
    Ok(mode)
}

impl Args {
    /// The TPM connection string.
    ///
    /// # Errors
    /// Neither `--tpm` nor `$FLARE_WALLET_TPM`.
    pub fn tcti(&self) -> Result<String, String> {
        match &self.tpm {
            Some(tcti) => Ok(tcti.clone()),
            None if Path::new(wallet_core::tpm::transport::DEFAULT_DEVICE).exists() => Ok(format!(
                "device:{}",
                wallet_core::tpm::transport::DEFAULT_DEVICE
            )),
            None => {
                Err("no TPM: give --tpm or set FLARE_WALLET_TPM (e.g. device:/dev/tpmrm0)".into())
            }
        }
    }

    /// What the service trusts about its TPM: `--trust-roots` (or
    /// `$FLARE_WALLET_TPM_ROOTS`) and `--allow-unverified-tpm`.
    ///
    /// # Errors
    /// The roots are unreadable or hold a bad certificate; no roots and no
    /// `--allow-unverified-tpm`.
    pub fn tpm_trust(&self) -> Result<wallet_core::tpm::ek::TpmTrust, String> {
        let path = self
            .trust_roots
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty());
        let trust = match path {
            Some(path) => wallet_core::tpm::ek::TpmTrust::from_path_or_env(Some(path))
                .map_err(|e| format!("--trust-roots: {e}"))?,
            None if self.allow_unverified_tpm => wallet_core::tpm::ek::TpmTrust::default(),
            None => {
                return Err(
                    "no TPM trust roots: give --trust-roots (or set FLARE_WALLET_TPM_ROOTS) \
                     to the TPM vendor's EK CA; --allow-unverified-tpm accepts any TPM, insecurely"
                        .into(),
                )
            }
        };
        Ok(if self.allow_unverified_tpm {
            trust.allowing_unverified_tpm()
        } else {
            trust
        })
    }

    /// Seconds as durations.
    #[must_use]
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout.max(1))
    }

    /// Checks what can be checked without the TPM; returns the notes to print.
    ///
    /// # Errors
    /// The first problem found, in words.
    pub fn check(&self) -> Result<Vec<String>, String> {
        let mut notes = Vec::new();
        notes.push(format!("tpm: {}", self.tcti()?));
        let trust = self.tpm_trust()?;
        match &self.trust_roots {
            Some(path) if !trust.trust_roots().is_empty() => notes.push(format!(
                "trust roots: {} ({})",
                path.display(),
                trust.trust_roots().anchor_subjects().join("; ")
            )),
            Some(path) => notes.push(format!(
                "trust roots: {} (no root certificate)",
                path.display()
            )),
            None => {}
        }
        if self.allow_unverified_tpm {
            notes.push("allow-unverified-tpm: an unverified TPM is accepted (INSECURE)".into());
        }
        for dir in &self.accounts {
            let account = dir.join(wallet_core::state::ACCOUNT_FILE);
            let meta = std::fs::metadata(dir);
            match meta {
                Ok(meta) if meta.is_dir() => {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = meta.permissions().mode() & 0o777;
                    if mode & 0o077 != 0 {
                        return Err(format!(
                            "{}: mode {mode:o}; a state directory must be 0700",
                            dir.display()
                        ));
                    }
                }
                Ok(_) => return Err(format!("{}: not a directory", dir.display())),
                Err(_) if self.create_missing => {}
                Err(e) => return Err(format!("{}: {e}", dir.display())),
            }
            if account.exists() {
                let bytes =
                    std::fs::read(&account).map_err(|e| format!("{}: {e}", account.display()))?;
                wallet_core::state::SealedAccount::from_bytes(bytes)
                    .map_err(|e| format!("{}: {e}", account.display()))?;
                notes.push(format!(
                    "account: {} (sealed-key file reads)",
                    dir.display()
                ));
            } else if self.create_missing {
                notes.push(format!("account: {} (will be created)", dir.display()));
            } else {
                return Err(format!(
                    "{}: holds no account (use --create-missing to create one)",
                    dir.display()
                ));
            }
        }
        if let Some(policy) = &self.policy {
            read_policy(policy)?;
            notes.push(format!("policy: {}", policy.display()));
        }
        if let Some(owners) = &self.owners {
            let set = read_owners(owners)?;
            notes.push(format!(
                "owners: {} of {} ({})",
                set.threshold(),
                set.owners().len(),
                owners.display()
            ));
        }
        if let Some(parent) = self.ipc.parent() {
            if !parent.is_dir() {
                return Err(format!(
                    "{}: the IPC socket's directory does not exist",
                    parent.display()
                ));
            }
        }
        if let Some(group) = &self.ipc_group {
            group_id(group)?;
        }
        notes.push(format!(
            "ipc: {} mode {:o}",
            self.ipc.display(),
            self.ipc_mode
        ));
        if let Some(listen) = self.http_listen {
            let client_certs = self.tls_client_ca.is_some();
            if !listen.ip().is_loopback() && !client_certs {
                return Err(format!(
                    "--http-listen {listen} is not loopback: it needs TLS with client certificates (--tls-cert, --tls-key, --tls-client-ca)"
                ));
            }
            if self.http_token_file.is_none() && !client_certs {
                return Err("--http-listen needs --http-token-file or --tls-client-ca".into());
            }
            if let Some(file) = &self.http_token_file {
                read_token(file)?;
            }
            self.tls_acceptor()?;
            notes.push(format!(
                "http: {listen}{}{}",
                if self.tls_cert.is_some() { " TLS" } else { "" },
                if client_certs {
                    " with client certificates"
                } else {
                    ""
                }
            ));
        }
        if let Some(listen) = self.metrics_listen {
            if !listen.ip().is_loopback() {
                return Err(format!(
                    "--metrics-listen {listen} must be a loopback address"
                ));
            }
            notes.push(format!("metrics: http://{listen}/metrics"));
        }
        if let Some(url) = &self.upstream {
            crate::upstream::Upstream::new(url, Duration::from_secs(self.upstream_timeout))?;
            notes.push(format!("upstream: {url}"));
        }
        Ok(notes)
    }

    /// The TLS acceptor of the HTTP endpoint, if TLS is configured.
    ///
    /// # Errors
    /// Files that cannot be read or do not hold what they should.
    pub fn tls_acceptor(&self) -> Result<Option<TlsAcceptor>, String> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = read_pem_certs(cert)?;
        let key_bytes = std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?;
        let key_bytes = Zeroizing::new(key_bytes);
        let private_key = rustls_pemfile::private_key(&mut key_bytes.as_slice())
            .map_err(|_| format!("{}: not a PEM private key", key.display()))?
            .ok_or_else(|| format!("{}: holds no private key", key.display()))?;
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = match &self.tls_client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for certificate in read_pem_certs(ca)? {
                    roots
                        .add(certificate)
                        .map_err(|e| format!("{}: {e}", ca.display()))?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| format!("{}: {e}", ca.display()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(chain, private_key)
            .map_err(|e| format!("TLS certificate and key: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(TlsAcceptor::from(Arc::new(config))))
    }
}

fn read_pem_certs(path: &Path) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let certs = rustls_pemfile::certs(&mut bytes.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format!("{}: not PEM certificates", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: holds no certificate", path.display()));
    }
    Ok(certs)
}

/// Reads the bearer token (surrounding whitespace trimmed). The file must
/// not be readable by others.
///
/// # Errors
/// An unreadable, empty or world-readable file.
pub fn read_token(path: &Path) -> Result<Zeroizing<String>, String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.permissions().mode() & 0o007 != 0 {
        return Err(format!(
            "{}: the token file is readable by others; chmod 0640 or stricter",
            path.display()
        ));
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
    );
    let token = Zeroizing::new(text.trim().to_string());
    if token.len() < 16 {
        return Err(format!(
            "{}: the token must be at least 16 characters",
            path.display()
        ));
    }
    Ok(token)
}

/// Reads a policy file (the JSON the Python `Policy` and `flare_policy` use).
///
/// # Errors
/// An unreadable file or a policy the core refuses.
pub fn read_policy(path: &Path) -> Result<wallet_core::policy::Policy, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    wallet_core::policy::Policy::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads an owners file: `{"owners": ["0x..", ...], "threshold": M}`.
///
/// # Errors
/// An unreadable file, or owners the core refuses.
pub fn read_owners(path: &Path) -> Result<wallet_core::authority::OwnerSet, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| format!("{}: not JSON", path.display()))?;
    let owners = value
        .get("owners")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| format!("{}: \"owners\" must be a list of addresses", path.display()))?
        .iter()
        .map(|owner| crate::values::address_value(owner, "owner").map_err(|e| e.message))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let threshold = value
        .get("threshold")
        .and_then(serde_json::Value::as_u64)
        .and_then(|t| u8::try_from(t).ok())
        .ok_or_else(|| format!("{}: \"threshold\" must be 1 to 16", path.display()))?;
    wallet_core::authority::OwnerSet::new(&owners, threshold)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The id of a group name (or a number).
///
/// # Errors
/// An unknown group.
pub fn group_id(name: &str) -> Result<nix::unistd::Gid, String> {
    if let Ok(number) = name.parse::<u32>() {
        return Ok(nix::unistd::Gid::from_raw(number));
    }
    match nix::unistd::Group::from_name(name) {
        Ok(Some(group)) => Ok(group.gid),
        _ => Err(format!("--ipc-group {name}: no such group")),
    }
}
