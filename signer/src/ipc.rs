//! The IPC endpoint: JSON-RPC over a Unix socket, framed as geth frames it.
//!
//! A connection carries a stream of JSON values with no delimiter (clients
//! may add whitespace or newlines between them): each complete value is one
//! request or batch. Responses are written as they are ready, one JSON value
//! followed by a newline, so a client may pipeline requests and match
//! responses by id (as alloy's and ethers' IPC transports do), or send one
//! at a time (as web3.py's `IPCProvider` does).
//!
//! Framing is decided by the JSON reader: a value that ends with the buffer
//! is *incomplete* and waits for more bytes; anything else that fails is
//! *invalid*, answered with a parse error, and the buffered bytes are
//! dropped. A connection that holds a partial request for longer than the
//! request timeout, or buffers more than the request limit, is answered with
//! an error and closed; other connections are not affected.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::rpc::{failure, ErrorCode, RpcError};
use crate::service::{Origin, Service};

/// Limits and permissions of the IPC endpoint.
#[derive(Clone, Debug)]
pub struct IpcConfig {
    /// The socket path.
    pub path: PathBuf,
    /// The socket's mode (0660 by default).
    pub mode: u32,
    /// The group that may connect, if not the service's own.
    pub group: Option<nix::unistd::Gid>,
    /// The largest request accepted, in bytes.
    pub max_request_bytes: usize,
    /// How long a client may take to send one request.
    pub request_timeout: Duration,
    /// How long an idle connection stays open.
    pub idle_timeout: Duration,
    /// How many connections are served at once.
    pub max_connections: usize,
}

/// Requests in flight on one connection; more wait until one completes.
const IN_FLIGHT_PER_CONNECTION: usize = 256;

/// Binds the socket with the configured mode and group.
///
/// # Errors
/// A path that exists and is not a socket, or a failure to bind, chmod or chown.
pub fn bind(config: &IpcConfig) -> Result<UnixListener, String> {
    let path = &config.path;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            std::fs::remove_file(path)
                .map_err(|e| format!("{}: cannot remove the old socket: {e}", path.display()))?;
        }
        Ok(_) => {
            return Err(format!(
                "{}: exists and is not a socket; refusing to replace it",
                path.display()
            ))
        }
        Err(_) => {}
    }
    // Bind under a umask that leaves the socket closed to others from the
    // start; the configured mode is set right after.
    let old_umask = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let bound = UnixListener::bind(path);
    nix::sys::stat::umask(old_umask);
    let listener = bound.map_err(|e| format!("{}: cannot bind: {e}", path.display()))?;
    if let Some(group) = config.group {
        nix::unistd::chown(path.as_path(), None, Some(group))
            .map_err(|e| format!("{}: cannot set the group: {e}", path.display()))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(config.mode))
        .map_err(|e| format!("{}: cannot set the mode: {e}", path.display()))?;
    Ok(listener)
}

/// Accepts connections until `shutdown`; each connection is a task in `tracker`.
pub async fn serve(
    listener: UnixListener,
    service: Arc<Service>,
    config: Arc<IpcConfig>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let connections = Arc::new(Semaphore::new(config.max_connections));
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors and the like: back off briefly.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            service.metrics().bad_requests.inc();
            tracker.spawn(refuse_connection(stream));
            continue;
        };
        let service = Arc::clone(&service);
        let config = Arc::clone(&config);
        let shutdown = shutdown.clone();
        let inner_tracker = tracker.clone();
        tracker.spawn(async move {
            connection(stream, service, config, shutdown, inner_tracker).await;
            drop(permit);
        });
    }
    remove_socket(&config.path);
}

/// Removes the socket file (at shutdown).
pub fn remove_socket(path: &Path) {
    if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
}

async fn refuse_connection(mut stream: UnixStream) {
    let error = RpcError::new(
        ErrorCode::InvalidRequest,
        "too many connections; try again later",
    );
    let mut bytes = serde_json::to_vec(&failure(&Value::Null, &error)).unwrap_or_default();
    bytes.push(b'\n');
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&bytes)).await;
}

/// The write side of a connection, shared by its requests' tasks.
#[derive(Clone)]
struct Responses(Arc<tokio::sync::Mutex<tokio::net::unix::OwnedWriteHalf>>);

impl Responses {
    /// Writes one response; a client that went away is not an error here.
    async fn send(&self, bytes: Vec<u8>) {
        let mut writer = self.0.lock().await;
        let _ = writer.write_all(&bytes).await;
    }
}

fn encode(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// What the reader found at the front of the buffer.
enum Frame {
    /// One complete value and the number of bytes it took.
    Complete(Value, usize),
    /// The value continues past the buffer.
    Incomplete,
    /// Nothing but whitespace.
    Empty,
    /// Not JSON.
    Invalid,
}

fn next_frame(buffer: &[u8]) -> Frame {
    let mut values = serde_json::Deserializer::from_slice(buffer).into_iter::<Value>();
    match values.next() {
        Some(Ok(value)) => Frame::Complete(value, values.byte_offset()),
        Some(Err(error)) if error.is_eof() => Frame::Incomplete,
        Some(Err(_)) => Frame::Invalid,
        None => Frame::Empty,
    }
}

async fn connection(
    stream: UnixStream,
    service: Arc<Service>,
    config: Arc<IpcConfig>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let (mut reader, writer) = stream.into_split();
    // Each request's task writes its own response, whole, under this lock:
    // no hand-off to a writer task on the way out.
    let responses = Responses(Arc::new(tokio::sync::Mutex::new(writer)));
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT_PER_CONNECTION));
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut partial_since: Option<Instant> = None;
    'connection: loop {
        loop {
            match next_frame(&buffer) {
                Frame::Complete(value, used) => {
                    buffer.drain(..used);
                    let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
                        break 'connection;
                    };
                    let service = Arc::clone(&service);
                    let responses = responses.clone();
                    tracker.spawn(async move {
                        if let Some(response) = service.handle_value(value, Origin::Ipc).await {
                            responses.send(encode(&response)).await;
                        }
                        drop(permit);
                    });
                }
                Frame::Incomplete => break,
                Frame::Empty => {
                    buffer.clear();
                    break;
                }
                Frame::Invalid => {
                    service.metrics().bad_requests.inc();
                    let error =
                        RpcError::new(ErrorCode::ParseError, "the request is not valid JSON");
                    responses.send(encode(&failure(&Value::Null, &error))).await;
                    buffer.clear();
                    break;
                }
            }
        }
        if buffer.len() > config.max_request_bytes {
            service.metrics().bad_requests.inc();
            let error = RpcError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "the request is larger than the limit of {} bytes; closing the connection",
                    config.max_request_bytes
                ),
            )
            .with_data(json!({"limit": config.max_request_bytes}));
            responses.send(encode(&failure(&Value::Null, &error))).await;
            break;
        }
        partial_since = match (buffer.is_empty(), partial_since) {
            (true, _) => None,
            (false, None) => Some(Instant::now()),
            (false, since) => since,
        };
        let wait = match partial_since {
            Some(since) => config.request_timeout.saturating_sub(since.elapsed()),
            None => config.idle_timeout,
        };
        let read = tokio::select! {
            () = shutdown.cancelled() => break,
            read = tokio::time::timeout(wait, reader.read(&mut chunk)) => read,
        };
        match read {
            Err(_) if partial_since.is_some() => {
                service.metrics().bad_requests.inc();
                let error = RpcError::new(
                    ErrorCode::Timeout,
                    format!(
                        "the request was not complete within {} s; closing the connection",
                        config.request_timeout.as_secs()
                    ),
                );
                responses.send(encode(&failure(&Value::Null, &error))).await;
                break;
            }
            Err(_) | Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => buffer.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    // In-flight requests of this connection still hold the writer: the
    // socket closes when the last of them has answered.
    drop(responses);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_complete_incomplete_and_invalid() {
        assert!(matches!(next_frame(b"  "), Frame::Empty));
        assert!(matches!(next_frame(b"{\"a\":"), Frame::Incomplete));
        assert!(matches!(
            next_frame(b"{\"a\":1}{\"b\""),
            Frame::Complete(_, 7)
        ));
        assert!(matches!(next_frame(b"{\"a\" 1}"), Frame::Invalid));
        assert!(matches!(
            next_frame(b"\n[{\"a\":1}]\n"),
            Frame::Complete(_, 10)
        ));
    }
}
