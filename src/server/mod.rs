//! Server: an HTTP decision point over a live [`Engine`], for services not written in Rust.
//!
//! JSON over HTTP/1.1: `POST /v1/check`, `POST /v1/check/batch`, `POST /v1/allowed-actions`,
//! `GET /v1/policy`, `GET /healthz`, `GET /readyz`, `GET /metrics`. Every response carries
//! Maily's security headers and `Cache-Control: no-store`; bodies are bounded, requests are
//! timed out, and every error is a JSON object that says what is wrong.

mod authzen;
mod limit;

pub use limit::RateLimit;

use crate::{Attrs, Engine, Pinned, Principal, Request, Resource};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// The server's bounds and access. [`ServerConfig::default`] gives the documented defaults.
#[derive(Clone, PartialEq)]
pub struct ServerConfig {
    /// Largest request body, in bytes. Default: 1 MiB.
    pub max_body_bytes: usize,
    /// Most (resource, action) pairs in one batch. Default: 1,000.
    pub max_batch: usize,
    /// Longest time to read a request and answer it. Default: 5 s.
    pub request_timeout: Duration,
    /// Bearer tokens that may call the API (`/healthz` stays open). Empty: no
    /// authentication. Default: empty.
    pub tokens: Vec<String>,
    /// Requests per client (`/healthz` is not limited); excess requests get 429 with
    /// `Retry-After`. Default: none.
    pub rate_limit: Option<RateLimit>,
    /// Proxies whose `X-Forwarded-For` names the client. Default: none (the peer is the client).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Write one JSON line per request to standard error (request id, method, path, status,
    /// duration, client). Default: true.
    pub log_requests: bool,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_batch", &self.max_batch)
            .field("request_timeout", &self.request_timeout)
            .field("tokens", &format_args!("{} token(s)", self.tokens.len()))
            .field("rate_limit", &self.rate_limit)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("log_requests", &self.log_requests)
            .finish()
    }
}

/// Whether `presented` equals one of `tokens`, in time that depends only on the lengths
/// (every token is compared in full, whatever matches).
fn token_matches(tokens: &[String], presented: &[u8]) -> bool {
    let mut any = false;
    for token in tokens {
        let t = token.as_bytes();
        let mut diff = u8::from(t.len() != presented.len());
        for i in 0..t.len().max(presented.len()) {
            diff |= t.get(i).copied().unwrap_or(0) ^ presented.get(i).copied().unwrap_or(0xff);
        }
        any |= diff == 0;
    }
    any
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 1 << 20,
            max_batch: 1000,
            request_timeout: Duration::from_secs(5),
            tokens: Vec::new(),
            rate_limit: None,
            trusted_proxies: Vec::new(),
            log_requests: true,
        }
    }
}

struct AppState {
    engine: Engine,
    config: ServerConfig,
    limiter: Option<limit::Limiter>,
}

type Shared = State<Arc<AppState>>;

/// An error answer: a status and a JSON body `{"error": {"reason": ..., "field": ...}}`.
struct ApiError {
    status: StatusCode,
    reason: String,
}

impl ApiError {
    fn bad(reason: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, reason: reason.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // serde_json names the field in its messages (`missing field `resource``); repeat it
        // as a field of its own for clients.
        let field = self.reason.split('`').nth(1).filter(|_| self.reason.contains("field `")).map(str::to_owned);
        let body = json!({ "error": { "status": self.status.as_u16(), "reason": self.reason, "field": field } });
        (self.status, axum::Json(body)).into_response()
    }
}

/// Reads a body of at most `limit` bytes.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        reason: format!("the request body is larger than {limit} bytes"),
    })
}

fn utf8(bytes: &Bytes) -> Result<&str, ApiError> {
    std::str::from_utf8(bytes).map_err(|_| ApiError::bad("the request body is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::token_matches;

    #[test]
    fn tokens_match_exactly() {
        let tokens = ["s3cret".to_owned(), "other-token".to_owned()];
        assert!(token_matches(&tokens, b"s3cret") && token_matches(&tokens, b"other-token"));
        for wrong in [&b""[..], b"s3cre", b"s3cret!", b"S3cret", b"other-toke"] {
            assert!(!token_matches(&tokens, wrong), "{wrong:?}");
        }
        assert!(!token_matches(&[], b"anything"));
    }
}

#[derive(Deserialize)]
struct ExplainQuery {
    #[serde(default)]
    explain: bool,
}

/// Decides a request and describes the decision in names, both against the one pinned
/// snapshot: the rule ids a decision holds mean nothing to another version of the set.
fn decide(pinned: &Pinned<'_>, request: &Request<'_>, explain: bool) -> serde_json::Value {
    let permission = format!("{}:{}", request.resource.kind, request.action);
    let snapshot = pinned.snapshot();
    let report = if explain {
        let (decision, trace) = pinned.explain(request);
        snapshot.explain_decision(&decision, &permission, Some(&trace))
    } else {
        snapshot.explain_decision(&pinned.check(request), &permission, None)
    };
    serde_json::to_value(report).unwrap_or_else(|e| json!({ "error": e.to_string() }))
}

async fn check(State(app): Shared, Query(q): Query<ExplainQuery>, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(body, app.config.max_body_bytes).await?;
    let pinned = app.engine.pin();
    let request =
        Request::from_json(utf8(&bytes)?, pinned.snapshot().limits()).map_err(|e| ApiError::bad(e.to_string()))?;
    Ok(axum::Json(decide(&pinned, &request, q.explain)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchItem<'a> {
    #[serde(borrow)]
    resource: Resource<'a>,
    #[serde(borrow)]
    actions: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch<'a> {
    #[serde(borrow)]
    principal: Principal<'a>,
    #[serde(default, borrow)]
    context: Attrs<'a>,
    #[serde(borrow)]
    checks: Vec<BatchItem<'a>>,
}

async fn check_batch(State(app): Shared, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(body, app.config.max_body_bytes).await?;
    let batch: Batch<'_> =
        serde_json::from_str(utf8(&bytes)?).map_err(|e| ApiError::bad(format!("invalid batch: {e}")))?;
    let pairs: usize = batch.checks.iter().map(|c| c.actions.len()).sum();
    if pairs > app.config.max_batch {
        return Err(ApiError::bad(format!(
            "the batch asks for {pairs} decisions; the limit is {} (field `checks`)",
            app.config.max_batch
        )));
    }
    // One snapshot decides the whole batch, so its answers agree with one another.
    let pinned = app.engine.pin();
    let mut results = Vec::with_capacity(batch.checks.len());
    for item in &batch.checks {
        let mut decisions = serde_json::Map::new();
        for action in &item.actions {
            let request = Request {
                principal: batch.principal.clone(),
                action: action.clone(),
                resource: item.resource.clone(),
                context: batch.context.clone(),
            };
            request.check_limits(pinned.snapshot().limits()).map_err(|e| ApiError::bad(e.to_string()))?;
            decisions.insert(action.to_string(), decide(&pinned, &request, false));
        }
        results.push(json!({
            "resource": { "kind": item.resource.kind, "id": item.resource.id },
            "decisions": decisions,
        }));
    }
    Ok(axum::Json(json!({ "results": results })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionsQuery<'a> {
    #[serde(borrow)]
    principal: Principal<'a>,
    #[serde(borrow)]
    resource: Resource<'a>,
    #[serde(default, borrow)]
    context: Attrs<'a>,
}

async fn allowed_actions(State(app): Shared, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(body, app.config.max_body_bytes).await?;
    let q: ActionsQuery<'_> =
        serde_json::from_str(utf8(&bytes)?).map_err(|e| ApiError::bad(format!("invalid request: {e}")))?;
    let snapshot = app.engine.snapshot();
    let actions = snapshot
        .actions(&q.resource.kind)
        .ok_or_else(|| ApiError::bad(format!("unknown resource kind `{}` (field `resource.kind`)", q.resource.kind)))?;
    let mut allowed = Vec::new();
    for action in actions {
        let request = Request {
            principal: q.principal.clone(),
            action: Cow::Borrowed(action),
            resource: q.resource.clone(),
            context: q.context.clone(),
        };
        // Asking which buttons to show is not an access attempt: not logged as one.
        if snapshot.check(&request).is_allowed() {
            allowed.push(action);
        }
    }
    let version = snapshot.version();
    Ok(axum::Json(
        json!({ "resource": { "kind": q.resource.kind, "id": q.resource.id }, "actions": allowed, "version": version }),
    )
    .into_response())
}

async fn policy(State(app): Shared) -> Response {
    let snapshot = app.engine.snapshot();
    let last_error = app.engine.last_error().map(|r| r.records());
    axum::Json(json!({
        "version": snapshot.version(),
        "loaded_at": app.engine.loaded_at().map(crate::rfc3339),
        "files": snapshot.files().collect::<Vec<_>>(),
        "counts": snapshot.counts(),
        "last_reload_error": last_error,
    }))
    .into_response()
}

async fn healthz() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

async fn readyz(State(app): Shared) -> Response {
    let version = app.engine.version();
    if version.number > 0 {
        axum::Json(json!({ "status": "ready", "version": version })).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({ "status": "loading" }))).into_response()
    }
}

async fn metrics(State(app): Shared) -> Response {
    let mut response = app.engine.metrics().to_prometheus().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}

async fn not_found() -> ApiError {
    ApiError { status: StatusCode::NOT_FOUND, reason: "no such endpoint".into() }
}

async fn method_not_allowed() -> ApiError {
    ApiError { status: StatusCode::METHOD_NOT_ALLOWED, reason: "this endpoint does not take that method".into() }
}

static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Gives every request an id (the caller's `X-Request-Id` when it is short and printable),
/// echoes it in the response, and logs one JSON line per request.
async fn trace(State(app): Shared, mut request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let given = request.headers().get("x-request-id").and_then(|v| v.to_str().ok());
    let id = match given.filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_graphic())) {
        Some(v) => v.to_owned(),
        None => {
            let n = REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            format!("{:08x}-{n:08x}", std::process::id())
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert("x-request-id", value);
    }
    let (method, path) = (request.method().to_string(), request.uri().path().to_owned());
    let peer = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if app.config.log_requests {
        let line = json!({
            "timestamp": crate::rfc3339(std::time::SystemTime::now()),
            "event": "http.request",
            "request_id": id,
            "method": method,
            "path": path,
            "status": response.status().as_u16(),
            "duration_ms": (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0,
            "client": peer.map(|p| p.to_string()),
        });
        eprintln!("{line}");
    }
    response
}

/// Checks the bearer token (when tokens are configured), bounds the time per request,
/// and adds Maily's security headers to every response.
async fn harden(State(app): Shared, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if let Some(limiter) = &app.limiter
        && request.uri().path() != "/healthz"
    {
        let peer = request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let client = limit::client(peer, forwarded, &app.config.trusted_proxies);
        if let Err(wait) = limiter.admit(client, std::time::Instant::now()) {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut r = ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                reason: format!("too many requests from {client}; retry in {seconds} s"),
            }
            .into_response();
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            add_security_headers(&mut r);
            return r;
        }
    }
    let authorized = app.config.tokens.is_empty()
        || request.uri().path() == "/healthz"
        || request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .is_some_and(|t| token_matches(&app.config.tokens, t));
    let mut response = if !authorized {
        let mut r = ApiError { status: StatusCode::UNAUTHORIZED, reason: "a valid bearer token is required".into() }
            .into_response();
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    } else {
        match tokio::time::timeout(app.config.request_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => ApiError {
                status: StatusCode::REQUEST_TIMEOUT,
                reason: format!("the request took longer than {} ms", app.config.request_timeout.as_millis()),
            }
            .into_response(),
        }
    };
    add_security_headers(&mut response);
    response
}

fn add_security_headers(response: &mut Response) {
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", "default-src 'self'"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("strict-transport-security", "max-age=31536000; includeSubDomains"),
        ("cache-control", "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// The server's routes over an engine.
pub fn router(engine: Engine, config: ServerConfig) -> Router {
    let limiter = config.rate_limit.map(limit::Limiter::new);
    let state = Arc::new(AppState { engine, config, limiter });
    Router::new()
        .route("/v1/check", post(check))
        .route("/v1/check/batch", post(check_batch))
        .route("/v1/allowed-actions", post(allowed_actions))
        .route("/v1/policy", get(policy))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/access/v1/evaluation", post(authzen::evaluation))
        .route("/access/v1/evaluations", post(authzen::evaluations))
        .route("/.well-known/authzen-configuration", get(authzen::configuration))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state), harden))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state), trace))
        .with_state(state)
}

/// Serves `engine` on a Unix socket until `shutdown` completes; requests in flight finish.
/// Clients are not told apart by address (rate limits apply to all of them together).
#[cfg(unix)]
pub async fn serve_unix(
    engine: Engine,
    listener: tokio::net::UnixListener,
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(engine, config)).with_graceful_shutdown(shutdown).await
}

/// Serves `engine` on `listener` until `shutdown` completes; requests in flight finish.
pub async fn serve(
    engine: Engine,
    listener: tokio::net::TcpListener,
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(engine, config).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
