//! `flare-wallet-signer`: see `wallet_signer` and `signer/README.md`.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wallet_signer::config::{Args, LogFormat};

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => subscriber.init(),
        LogFormat::Json => subscriber.json().init(),
    }
    if args.check_config {
        return match args.check() {
            Ok(notes) => {
                let mut out = std::io::stdout().lock();
                for note in notes {
                    let _ = writeln!(out, "ok  {note}");
                }
                let _ = writeln!(out, "configuration ok");
                ExitCode::SUCCESS
            }
            Err(problem) => {
                let _ = writeln!(std::io::stderr(), "configuration error: {problem}");
                ExitCode::from(2)
            }
        };
    }
    // The service owns its process and caches keys: no core dump, no ptrace
    // by other processes of its user (PR_SET_DUMPABLE 0).
    if let Err(e) = wallet_core::wallet::make_process_non_dumpable() {
        tracing::warn!("could not make the process non-dumpable: {e}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "flare-wallet-signer: cannot start the runtime: {e}"
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(wallet_signer::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            tracing::error!("{problem}");
            let _ = writeln!(std::io::stderr(), "flare-wallet-signer: {problem}");
            ExitCode::FAILURE
        }
    }
}
