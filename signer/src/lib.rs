//! # wallet-signer
//!
//! `flare-wallet-signer`: the TPM-sealed wallet as a separate JSON-RPC
//! service, in the manner of Web3Signer and Clef. The agent that asks for
//! signatures runs as another OS user: it has no access to the TPM or to the
//! state directories, only to the IPC socket (and, if configured, the HTTP
//! endpoint).
//!
//! - [`ipc`]: geth-style IPC (a stream of JSON values on a Unix socket).
//! - [`http`]: JSON-RPC over HTTP, with a bearer token and/or TLS client
//!   certificates, and Prometheus metrics.
//! - [`service`]: the methods: Web3Signer's eth1 signing methods,
//!   `eth_sendTransaction` (filled from and submitted to the upstream node),
//!   the `flare_` wallet methods, and the proxy for everything else.
//! - [`accounts`]: the accounts and the one TPM connection they share.

pub mod accounts;
pub mod admin;
pub mod config;
pub mod http;
pub mod ipc;
pub mod metrics;
pub mod rpc;
pub mod service;
pub mod transaction;
pub mod typed_data;
pub mod upstream;
pub mod values;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wallet_core::wallet::KeyMode;

use crate::accounts::{open_account, Accounts, MissingAccount, SharedTpm};
use crate::config::{Args, KeyModeArg};
use crate::metrics::Metrics;
use crate::service::Service;

/// Opens the TPM and the accounts, binds the endpoints, and serves until
/// SIGTERM or SIGINT; then stops accepting, lets requests in flight finish
/// (up to `--drain-timeout`) and removes the socket.
///
/// # Errors
/// Configuration, TPM and account errors at start-up, in words.
pub async fn run(args: Args) -> Result<(), String> {
    let metrics = Arc::new(Metrics::new());
    let tcti = args.tcti()?;
    let tpm =
        SharedTpm::open(&tcti, Arc::clone(&metrics)).map_err(|e| format!("TPM {tcti}: {e}"))?;
    let key_mode = match args.key_mode {
        KeyModeArg::Cached => KeyMode::Cached,
        KeyModeArg::Strict => KeyMode::Strict,
    };
    let missing = if args.create_missing {
        let policy = match &args.policy {
            Some(path) => config::read_policy(path)?,
            None => wallet_core::policy::Policy::plain_wallet(),
        };
        let owners = args
            .owners
            .as_deref()
            .map(config::read_owners)
            .transpose()?
            .map(Box::new);
        let key_lock = args.key_lock.map(|lock| match lock {
            config::KeyLockArg::None => wallet_core::seal::KeyLock::UNLOCKED,
            config::KeyLockArg::BootOnce => wallet_core::seal::KeyLock::BOOT_ONCE,
        });
        MissingAccount::Create {
            policy: Box::new(policy),
            owners,
            key_lock,
        }
    } else {
        MissingAccount::Refuse
    };
    let trust = Arc::new(args.tpm_trust()?);
    if args.allow_unverified_tpm {
        tracing::warn!(
            "--allow-unverified-tpm: a TPM that cannot prove itself is accepted; keys sealed \
             through it may be exposed to a fake TPM or an interposer"
        );
    }
    let mut accounts = Vec::new();
    for dir in &args.accounts {
        let opened = {
            let tpm = tpm.clone();
            let dir = dir.clone();
            let missing = missing.clone();
            let trust = trust.clone();
            tokio::task::spawn_blocking(move || {
                open_account(&tpm, &dir, key_mode, &missing, &trust)
            })
            .await
            .map_err(|_| "opening an account failed".to_string())??
        };
        if accounts
            .iter()
            .any(|a: &Arc<accounts::Account>| a.address == opened.address)
        {
            return Err(format!(
                "{}: the same account is given twice",
                dir.display()
            ));
        }
        tracing::info!(account = %opened.address, state_dir = %dir.display(), "account loaded");
        accounts.push(Arc::new(opened));
    }
    let upstream = match &args.upstream {
        Some(url) => Some(upstream::Upstream::new(
            url,
            Duration::from_secs(args.upstream_timeout),
        )?),
        None => None,
    };
    let service = Arc::new(Service::new(
        Accounts::new(accounts, tpm),
        upstream,
        metrics,
    ));

    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();

    let ipc_config = Arc::new(ipc::IpcConfig {
        path: args.ipc.clone(),
        mode: args.ipc_mode,
        group: args
            .ipc_group
            .as_deref()
            .map(config::group_id)
            .transpose()?,
        max_request_bytes: args.max_request_bytes,
        request_timeout: args.request_timeout(),
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        max_connections: args.max_connections.max(1),
    });
    // The TCP endpoints are bound before the IPC socket is created, so a
    // supervisor (or a test) that waits for the socket finds every endpoint
    // listening, and a bad `--http-listen` leaves no socket behind.
    let mut servers = Vec::new();
    if let Some(listen) = args.http_listen {
        args.check()?;
        let token = args
            .http_token_file
            .as_deref()
            .map(config::read_token)
            .transpose()?;
        let tls = args.tls_acceptor()?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("--http-listen {listen}: {e}"))?;
        tracing::info!(%listen, tls = tls.is_some(), "HTTP endpoint ready");
        servers.push(tokio::spawn(http::serve(
            listener,
            Arc::clone(&service),
            http::HttpConfig {
                listen,
                token,
                tls,
                max_request_bytes: args.max_request_bytes,
                request_timeout: args.request_timeout(),
            },
            shutdown.clone(),
            tracker.clone(),
        )));
    }
    if let Some(listen) = args.metrics_listen {
        if !listen.ip().is_loopback() {
            return Err(format!(
                "--metrics-listen {listen} must be a loopback address"
            ));
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("--metrics-listen {listen}: {e}"))?;
        tracing::info!(%listen, "metrics endpoint ready");
        servers.push(tokio::spawn(http::serve_metrics(
            listener,
            Arc::clone(&service),
            shutdown.clone(),
            tracker.clone(),
        )));
    }
    let listener = ipc::bind(&ipc_config)?;
    tracing::info!(path = %args.ipc.display(), mode = format!("{:o}", args.ipc_mode), "IPC endpoint ready");
    servers.push(tokio::spawn(ipc::serve(
        listener,
        Arc::clone(&service),
        Arc::clone(&ipc_config),
        shutdown.clone(),
        tracker.clone(),
    )));

    wait_for_signal().await;
    tracing::info!("shutting down: no new requests; draining those in flight");
    shutdown.cancel();
    for server in servers {
        let _ = server.await;
    }
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(args.drain_timeout), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("drain timeout: requests still in flight are abandoned");
    }
    ipc::remove_socket(&args.ipc);
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    match (terminate, interrupt) {
        (Ok(mut terminate), Ok(mut interrupt)) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
