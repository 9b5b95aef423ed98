//! The OpenID AuthZEN Authorization API 1.0: `POST /access/v1/evaluation`,
//! `POST /access/v1/evaluations` and `GET /.well-known/authzen-configuration`.
//!
//! Mapping onto Rampart's request: `subject.id` is the principal's id,
//! `subject.properties.roles` its roles and the other subject properties its attributes;
//! `action.name` is the action; `resource.type` is the resource kind, `resource.id` its id
//! and `resource.properties` its attributes; `context` is the context. `subject.type` and
//! `action.properties` are accepted and not used.

use super::{ApiError, AppState, read_body, utf8};
use crate::{Pinned, Request};
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// An AuthZEN evaluation as Rampart's request JSON.
fn to_request(e: &Map<String, Value>) -> Result<String, ApiError> {
    let field = |name: &str| e.get(name).and_then(Value::as_object);
    let subject = field("subject").ok_or_else(|| ApiError::bad("missing field `subject`"))?;
    let action = field("action").ok_or_else(|| ApiError::bad("missing field `action`"))?;
    let resource = field("resource").ok_or_else(|| ApiError::bad("missing field `resource`"))?;
    let string = |o: &Map<String, Value>, key: &str, path: &str| {
        o.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ApiError::bad(format!("missing field `{path}`")))
    };
    let mut attrs = subject.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let roles = attrs.remove("roles").unwrap_or_else(|| json!([]));
    let request = json!({
        "principal": { "id": string(subject, "id", "subject.id")?, "roles": roles, "attrs": attrs },
        "action": string(action, "name", "action.name")?,
        "resource": {
            "kind": string(resource, "type", "resource.type")?,
            "id": string(resource, "id", "resource.id")?,
            "attrs": resource.get("properties").cloned().unwrap_or_else(|| json!({})),
        },
        "context": e.get("context").cloned().unwrap_or_else(|| json!({})),
    });
    Ok(request.to_string())
}

/// Decides one evaluation: `{"decision": bool, "context": {"reasons": [...], "version": ...}}`.
/// The decision and its reasons both come from `pinned`'s snapshot.
fn evaluate(pinned: &Pinned<'_>, e: &Map<String, Value>) -> Result<Value, ApiError> {
    let json = to_request(e)?;
    let snapshot = pinned.snapshot();
    let request = Request::from_json(&json, snapshot.limits()).map_err(|e| ApiError::bad(e.to_string()))?;
    let decision = pinned.check(&request);
    let permission = format!("{}:{}", request.resource.kind, request.action);
    let report = snapshot.explain_decision(&decision, &permission, None);
    Ok(json!({
        "decision": decision.is_allowed(),
        "context": { "reasons": report.reasons, "errors": report.errors, "version": report.version },
    }))
}

fn object(body: &str) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(ApiError::bad("the body must be a JSON object")),
        Err(e) => Err(ApiError::bad(format!("invalid JSON: {e}"))),
    }
}

pub(super) async fn evaluation(State(app): State<Arc<AppState>>, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(body, app.config.max_body_bytes).await?;
    let e = object(utf8(&bytes)?)?;
    Ok(axum::Json(evaluate(&app.engine.pin(), &e)?).into_response())
}

pub(super) async fn evaluations(State(app): State<Arc<AppState>>, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(body, app.config.max_body_bytes).await?;
    let top = object(utf8(&bytes)?)?;
    let semantic =
        top.get("options").and_then(|o| o.get("evaluations_semantic")).and_then(Value::as_str).unwrap_or("execute_all");
    let stop_on: Option<bool> = match semantic {
        "execute_all" => None,
        "deny_on_first_deny" => Some(false),
        "permit_on_first_permit" => Some(true),
        other => {
            return Err(ApiError::bad(format!(
                "unknown `options.evaluations_semantic` `{other}`: use execute_all, deny_on_first_deny or permit_on_first_permit"
            )));
        }
    };
    // One snapshot decides every evaluation of the request.
    let pinned = app.engine.pin();
    let Some(items) = top.get("evaluations").and_then(Value::as_array) else {
        // Without a list, the request is a single evaluation (AuthZEN 1.0, section 7.1).
        return Ok(axum::Json(json!({ "evaluations": [evaluate(&pinned, &top)?] })).into_response());
    };
    if items.len() > app.config.max_batch {
        return Err(ApiError::bad(format!(
            "{} evaluations; the limit is {} (field `evaluations`)",
            items.len(),
            app.config.max_batch
        )));
    }
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let Some(item) = item.as_object() else {
            return Err(ApiError::bad("each of `evaluations` must be an object"));
        };
        // The top-level subject, action, resource and context are defaults for each item.
        let mut merged = Map::new();
        for key in ["subject", "action", "resource", "context"] {
            if let Some(v) = item.get(key).or_else(|| top.get(key)) {
                merged.insert(key.to_owned(), v.clone());
            }
        }
        let result = evaluate(&pinned, &merged)?;
        let decided = result["decision"].as_bool();
        results.push(result);
        if stop_on.is_some() && decided == stop_on {
            break;
        }
    }
    Ok(axum::Json(json!({ "evaluations": results })).into_response())
}

pub(super) async fn configuration(headers: HeaderMap) -> Response {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8181");
    let base = format!("http://{host}");
    axum::Json(json!({
        "policy_decision_point": base,
        "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
        "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
    }))
    .into_response()
}
