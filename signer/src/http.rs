//! The HTTP endpoint (off unless configured) and the metrics listener.
//!
//! `POST /` takes a JSON-RPC request or batch. Authentication is a bearer
//! token read from a file (`Authorization: Bearer ...`, compared in
//! constant time), or a TLS client certificate signed by the configured CA,
//! or both. `GET /metrics` gives the Prometheus metrics (same
//! authentication); `--metrics-listen` serves them without authentication on
//! a separate loopback port.
//!
//! Request bodies are bounded (413 and a JSON-RPC error above the limit),
//! headers and bodies must arrive within the request timeout (a slow client
//! gets 408 and a JSON-RPC error), and SIGTERM lets open requests finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use zeroize::Zeroizing;

use crate::rpc::{failure, ErrorCode, RpcError};
use crate::service::{Origin, Service};

/// Settings of the HTTP endpoint.
pub struct HttpConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The bearer token, if one is required.
    pub token: Option<Zeroizing<String>>,
    /// TLS (with client certificates when the config requires them).
    pub tls: Option<TlsAcceptor>,
    /// The largest request body, in bytes.
    pub max_request_bytes: usize,
    /// How long a client may take to send headers and body.
    pub request_timeout: Duration,
}

#[derive(Clone)]
struct Endpoint {
    service: Arc<Service>,
    token: Option<Arc<Zeroizing<String>>>,
    max_request_bytes: usize,
    request_timeout: Duration,
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn rpc_error_response(status: StatusCode, error: &RpcError) -> Response {
    json_response(status, &failure(&Value::Null, error))
}

/// Compares in time that depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorised(endpoint: &Endpoint, headers: &HeaderMap) -> bool {
    let Some(token) = &endpoint.token else {
        return true;
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    presented.is_some_and(|presented| constant_time_eq(presented.as_bytes(), token.as_bytes()))
}

fn unauthorised() -> Response {
    let mut response = rpc_error_response(
        StatusCode::UNAUTHORIZED,
        &RpcError::new(ErrorCode::InvalidRequest, "missing or wrong bearer token"),
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

async fn rpc(State(endpoint): State<Endpoint>, headers: HeaderMap, body: Body) -> Response {
    if !authorised(&endpoint, &headers) {
        return unauthorised();
    }
    let read = tokio::time::timeout(
        endpoint.request_timeout,
        axum::body::to_bytes(body, endpoint.max_request_bytes),
    )
    .await;
    let bytes = match read {
        Err(_) => {
            endpoint.service.metrics().bad_requests.inc();
            return rpc_error_response(
                StatusCode::REQUEST_TIMEOUT,
                &RpcError::new(
                    ErrorCode::Timeout,
                    "the request body did not arrive in time",
                ),
            );
        }
        Ok(Err(_)) => {
            endpoint.service.metrics().bad_requests.inc();
            return rpc_error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &RpcError::new(
                    ErrorCode::InvalidRequest,
                    format!(
                        "the request is larger than the limit of {} bytes",
                        endpoint.max_request_bytes
                    ),
                )
                .with_data(json!({"limit": endpoint.max_request_bytes})),
            );
        }
        Ok(Ok(bytes)) => bytes,
    };
    let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
        endpoint.service.metrics().bad_requests.inc();
        return rpc_error_response(
            StatusCode::OK,
            &RpcError::new(ErrorCode::ParseError, "the request is not valid JSON"),
        );
    };
    match endpoint.service.handle_value(value, Origin::Http).await {
        Some(response) => json_response(StatusCode::OK, &response),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn metrics(State(endpoint): State<Endpoint>, headers: HeaderMap) -> Response {
    if !authorised(&endpoint, &headers) {
        return unauthorised();
    }
    metrics_text(&endpoint.service)
}

fn metrics_text(service: &Service) -> Response {
    let mut response = service.metrics().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

/// Serves the JSON-RPC endpoint until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    config: HttpConfig,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let endpoint = Endpoint {
        service,
        token: config.token.map(Arc::new),
        max_request_bytes: config.max_request_bytes,
        request_timeout: config.request_timeout,
    };
    let router = Router::new()
        .route("/", post(rpc))
        .route("/metrics", get(metrics))
        .with_state(endpoint);
    accept_loop(
        listener,
        router,
        config.tls,
        config.request_timeout,
        shutdown,
        tracker,
    )
    .await;
}

/// Serves `GET /metrics` without authentication (bind it to loopback).
pub async fn serve_metrics(
    listener: TcpListener,
    service: Arc<Service>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let service = Arc::clone(&service);
            async move { metrics_text(&service) }
        }),
    );
    accept_loop(
        listener,
        router,
        None,
        Duration::from_secs(10),
        shutdown,
        tracker,
    )
    .await;
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    request_timeout: Duration,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let tls = tls.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            match tls {
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(request_timeout, acceptor.accept(stream)).await
                    else {
                        tracing::info!("TLS handshake failed or timed out");
                        return;
                    };
                    serve_connection(TokioIo::new(stream), router, request_timeout, shutdown).await;
                }
                None => {
                    serve_connection(TokioIo::new(stream), router, request_timeout, shutdown).await;
                }
            }
        });
    }
}

async fn serve_connection<I>(
    io: I,
    router: Router,
    request_timeout: Duration,
    shutdown: CancellationToken,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(request_timeout)
        .keep_alive(true);
    let connection = builder.serve_connection(io, TowerToHyperService::new(router));
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
