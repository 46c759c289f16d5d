//! `flare-wallet-signer-load`: a load generator for the signer.
//!
//! Sends `eth_signTransaction` (complete EIP-1559 transfers, so the node is
//! never asked) over IPC or HTTP and records every latency in an HDR
//! histogram. Two modes:
//!
//! - `--concurrency N`: a closed loop of N clients, each sending its next
//!   request when the last is answered; reports throughput.
//! - `--rate R`: an open loop at a fixed R requests per second; latency is
//!   measured from when each request was due, so a stall is counted against
//!   every request it delayed (no coordinated omission).
//!
//! Prints one JSON object with the figures.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::Mutex;

/// Load generator for flare-wallet-signer.
#[derive(Parser, Debug)]
struct Args {
    /// The IPC socket (this or --http).
    #[arg(long)]
    ipc: Option<PathBuf>,
    /// The HTTP endpoint URL (http://127.0.0.1:PORT/).
    #[arg(long)]
    http: Option<String>,
    /// A file with the bearer token for --http.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Closed loop with this many concurrent clients.
    #[arg(long)]
    concurrency: Option<usize>,
    /// Open loop at this many requests per second.
    #[arg(long)]
    rate: Option<u64>,
    /// Seconds to measure.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Seconds of warm-up, not recorded.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Connections for the open loop.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// The chain id to put in the transactions.
    #[arg(long, default_value_t = 31337)]
    chain_id: u64,
    /// A label for the output.
    #[arg(long, default_value = "")]
    label: String,
}

/// One way to send a request and wait for its answer.
enum SignerConnection {
    Ipc(
        Mutex<(
            BufReader<tokio::net::unix::OwnedReadHalf>,
            tokio::net::unix::OwnedWriteHalf,
        )>,
    ),
    Http {
        client: Client<HttpConnector, Full<Bytes>>,
        uri: Uri,
        token: Option<String>,
    },
}

impl SignerConnection {
    async fn call(&self, body: &Value) -> Result<Value, String> {
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        match self {
            SignerConnection::Ipc(stream) => {
                let mut guard = stream.lock().await;
                let (reader, writer) = &mut *guard;
                writer.write_all(&bytes).await.map_err(|e| e.to_string())?;
                // The signer ends each response with a newline.
                let mut line = String::new();
                reader
                    .read_line(&mut line)
                    .await
                    .map_err(|e| e.to_string())?;
                serde_json::from_str(&line).map_err(|e| e.to_string())
            }
            SignerConnection::Http { client, uri, token } => {
                let mut request = Request::new(Full::new(Bytes::from(bytes)));
                *request.method_mut() = Method::POST;
                *request.uri_mut() = uri.clone();
                request
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                if let Some(token) = token {
                    let value = HeaderValue::from_str(&format!("Bearer {token}"))
                        .map_err(|e| e.to_string())?;
                    request.headers_mut().insert(AUTHORIZATION, value);
                }
                let response = client.request(request).await.map_err(|e| e.to_string())?;
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                serde_json::from_slice(&body).map_err(|e| e.to_string())
            }
        }
    }
}

async fn connect(args: &Args) -> Result<SignerConnection, String> {
    if let Some(path) = &args.ipc {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let (read, write) = stream.into_split();
        return Ok(SignerConnection::Ipc(Mutex::new((
            BufReader::new(read),
            write,
        ))));
    }
    let url = args.http.as_deref().ok_or("give --ipc or --http")?;
    let token = match &args.token_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .trim()
                .to_string(),
        ),
        None => None,
    };
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Ok(SignerConnection::Http {
        client: Client::builder(TokioExecutor::new()).build(connector),
        uri: url.parse().map_err(|_| format!("{url}: not a URL"))?,
        token,
    })
}

fn transaction(from: &str, chain_id: u64, nonce: u64) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": nonce,
        "method": "eth_signTransaction",
        "params": [{
            "from": from,
            "to": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            "value": "0x1",
            "gas": "0x5208",
            "maxFeePerGas": "0x77359400",
            "maxPriorityFeePerGas": "0x3b9aca00",
            "nonce": format!("{nonce:#x}"),
            "chainId": format!("{chain_id:#x}"),
        }]
    })
}

fn new_histogram() -> Result<Histogram<u64>, String> {
    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).map_err(|e| e.to_string())
}

async fn run(args: Args) -> Result<Value, String> {
    let probe = connect(&args).await?;
    let accounts = probe
        .call(&json!({"jsonrpc": "2.0", "id": 0, "method": "eth_accounts", "params": []}))
        .await?;
    let from = accounts["result"][0]
        .as_str()
        .ok_or("the signer lists no account")?
        .to_string();
    let from = Arc::new(from);
    let warmup = Duration::from_secs_f64(args.warmup);
    let measure = Duration::from_secs_f64(args.seconds);
    let start = Instant::now();
    let record_from = start + warmup;
    let end = record_from + measure;
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    if let Some(concurrency) = args.concurrency {
        for worker in 0..concurrency {
            let client = connect(&args).await?;
            let from = Arc::clone(&from);
            let errors = Arc::clone(&errors);
            let chain_id = args.chain_id;
            tasks.push(tokio::spawn(async move {
                let mut histogram = new_histogram()?;
                let mut nonce = (worker as u64) << 32;
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let response = client.call(&transaction(&from, chain_id, nonce)).await;
                    nonce += 1;
                    if !matches!(&response, Ok(v) if v.get("result").is_some()) {
                        errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    if sent >= record_from {
                        let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                        histogram.record(micros.max(1)).map_err(|e| e.to_string())?;
                    }
                }
                Ok::<_, String>(histogram)
            }));
        }
    } else if let Some(rate) = args.rate {
        let clients: Vec<Arc<SignerConnection>> = {
            let mut clients = Vec::new();
            for _ in 0..args.connections.max(1) {
                clients.push(Arc::new(connect(&args).await?));
            }
            clients
        };
        let interval = Duration::from_secs_f64(1.0 / rate as f64);
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<Option<u64>>();
        let collector = tokio::spawn(async move {
            let mut histogram = new_histogram()?;
            while let Some(sample) = receiver.recv().await {
                if let Some(micros) = sample {
                    histogram.record(micros.max(1)).map_err(|e| e.to_string())?;
                }
            }
            Ok::<_, String>(histogram)
        });
        // The pace is kept by an OS thread: tokio's timer ticks in whole
        // milliseconds, which would add up to 1 ms to every due time.
        let (due_sender, mut due_receiver) =
            tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
        let pacer = std::thread::spawn(move || {
            let mut index: u64 = 0;
            loop {
                let due = start + interval.mul_f64(index as f64);
                if due >= end {
                    break;
                }
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                if due_sender.send((index, due)).is_err() {
                    break;
                }
                index += 1;
            }
        });
        while let Some((index, due)) = due_receiver.recv().await {
            let client = Arc::clone(&clients[(index as usize) % clients.len()]);
            let body = transaction(&from, args.chain_id, index);
            let sender = sender.clone();
            let errors = Arc::clone(&errors);
            tokio::spawn(async move {
                let response = client.call(&body).await;
                if !matches!(&response, Ok(v) if v.get("result").is_some()) {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                let sample = (due >= record_from)
                    .then(|| u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX));
                let _ = sender.send(sample);
            });
        }
        let _ = pacer.join();
        drop(sender);
        tasks.push(collector);
    } else {
        return Err("give --concurrency N or --rate R".into());
    }
    let mut histogram = new_histogram()?;
    for task in tasks {
        let part = task.await.map_err(|e| e.to_string())??;
        histogram.add(&part).map_err(|e| e.to_string())?;
    }
    let elapsed = measure.as_secs_f64();
    Ok(json!({
        "label": args.label,
        "transport": if args.ipc.is_some() { "ipc" } else { "http" },
        "mode": if args.concurrency.is_some() { "closed" } else { "open" },
        "concurrency": args.concurrency,
        "offered_rate": args.rate,
        "requests": histogram.len(),
        "errors": errors.load(std::sync::atomic::Ordering::Relaxed),
        "throughput_per_s": (histogram.len() as f64 / elapsed).round(),
        "p50_us": histogram.value_at_quantile(0.50),
        "p90_us": histogram.value_at_quantile(0.90),
        "p99_us": histogram.value_at_quantile(0.99),
        "p999_us": histogram.value_at_quantile(0.999),
        "max_us": histogram.max(),
    }))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(figures) => {
            let _ = writeln!(std::io::stdout(), "{figures}");
            std::process::ExitCode::SUCCESS
        }
        Err(problem) => {
            let _ = writeln!(std::io::stderr(), "flare-wallet-signer-load: {problem}");
            std::process::ExitCode::FAILURE
        }
    }
}
