//! The upstream Ethereum node: every method the service does not handle is
//! passed to it unchanged, and `eth_sendTransaction` reads nonces, gas,
//! fees and the chain id from it and submits through it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use crate::rpc::{ErrorCode, RpcError};

/// The largest upstream response read (a block with its transactions fits).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A JSON-RPC client of the upstream node (plain HTTP: a node on this host
/// or a private network).
pub struct Upstream {
    uri: Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    next_id: AtomicU64,
}

fn unavailable(message: impl Into<String>) -> RpcError {
    RpcError::new(ErrorCode::UpstreamUnavailable, message)
}

impl Upstream {
    /// A client of `url` (`http://host:port/path`).
    ///
    /// # Errors
    /// A URL that is not `http://`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|_| format!("--upstream {url:?} is not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!(
                "--upstream {url:?}: only http:// is supported (a node on this host or a private network)"
            ));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Self {
            uri,
            client,
            timeout,
            next_id: AtomicU64::new(1),
        })
    }

    /// Posts one JSON-RPC body and returns the parsed response.
    ///
    /// # Errors
    /// [`ErrorCode::UpstreamUnavailable`] when the node cannot be reached,
    /// times out, or answers with something that is not JSON.
    pub async fn post(&self, body: &Value) -> Result<Value, RpcError> {
        let bytes = serde_json::to_vec(body).map_err(|_| unavailable("request not encodable"))?;
        let mut request = Request::new(Full::new(Bytes::from(bytes)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|_| unavailable("the upstream node cannot be reached"))?;
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|_| unavailable("the upstream node's response could not be read"))?
                .to_bytes();
            serde_json::from_slice::<Value>(&body).map_err(|_| {
                unavailable("the upstream node answered with something that is not JSON")
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                RpcError::new(
                    ErrorCode::Timeout,
                    "the upstream node did not answer in time",
                )
            })?
    }

    /// Calls `method` and returns its result; an error object from the node
    /// is returned as that error.
    ///
    /// # Errors
    /// As [`post`](Self::post), and the node's own error.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let response = self
            .post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await?;
        if let Some(error) = response.get("error") {
            return Err(node_error(error));
        }
        response.get("result").cloned().ok_or_else(|| {
            unavailable(format!(
                "the upstream node's {method} response has no result"
            ))
        })
    }
}

/// The node's error object, passed on with its own code when it has one of
/// the numbers JSON-RPC clients know.
#[must_use]
pub fn node_error(error: &Value) -> RpcError {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("the upstream node refused the request")
        .to_string();
    let mut rpc = RpcError::new(
        ErrorCode::UpstreamUnavailable,
        format!("upstream: {message}"),
    );
    rpc.data = Some(json!({"upstream_error": error}));
    rpc
}
