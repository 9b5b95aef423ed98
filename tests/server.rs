//! The decision server, end to end: the real binary on an ephemeral loopback port, spoken
//! to over HTTP/1.1.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `rampart serve`, stopped (SIGTERM) when dropped.
struct Server {
    child: Child,
    addr: String,
    /// Everything the server wrote to standard error after its start line.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    fn start(policies: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(["serve", "--addr", "127.0.0.1:0", "-p", policies.to_str().unwrap()])
            .args(extra)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let addr = loop {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "the server exited before listening");
            if let Some(rest) = line.strip_prefix("listening on http://") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining stderr (so the server never blocks on a full pipe), keeping the lines.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&log);
        std::thread::spawn(move || stderr.lines().map_while(Result::ok).for_each(|l| sink.lock().unwrap().push(l)));
        Server { child, addr, log }
    }

    fn stop(&mut self) -> Option<i32> {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        self.child.wait().unwrap().code()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, headers (lower-case names), body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

fn http(addr: &str, method: &str, path: &str, body: &str) -> Response {
    http_with(addr, method, path, body, "")
}

/// An HTTP request with extra header lines (each ending in `\r\n`).
fn http_with(addr: &str, method: &str, path: &str, body: &str, headers: &str) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // A server that refuses a body (413) may answer and close before the body is sent:
    // a failed write is then expected, and the answer is still there to read.
    let _ = write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
        }
    }
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers =
        lines.filter_map(|l| l.split_once(": ")).map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned())).collect();
    Response { status, headers, body: body.to_owned() }
}

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")
}

const OWN_MAIL: &str = include_str!("../policies/examples/member-deletes-own-mail.json");

#[test]
fn check_batch_and_allowed_actions_answer_with_decisions() {
    let server = Server::start(&bundled(), &["--no-watch"]);
    let r = http(&server.addr, "POST", "/v1/check", OWN_MAIL);
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    assert_eq!((d["decision"].as_str(), d["reasons"][0]["rule"].as_str()), (Some("allow"), Some("grant")));
    assert_eq!(d["version"]["number"], 1);
    assert!(d.get("considered").is_none());
    let explained = http(&server.addr, "POST", "/v1/check?explain=true", OWN_MAIL).json();
    assert!(explained["considered"].as_array().is_some_and(|c| !c.is_empty()));

    let batch = r#"{"principal": {"id": "bob", "roles": ["member"]},
        "context": {"mfa": true},
        "checks": [{"resource": {"kind": "mail", "id": "m1", "attrs": {"owner": "bob", "classification": "internal"}},
                    "actions": ["read", "delete", "export"]},
                   {"resource": {"kind": "mail", "id": "m2", "attrs": {"owner": "eve", "classification": "internal"}},
                    "actions": ["delete"]}]}"#;
    let r = http(&server.addr, "POST", "/v1/check/batch", batch).json();
    let decision = |i: usize, a: &str| r["results"][i]["decisions"][a]["decision"].as_str().unwrap().to_owned();
    assert_eq!(
        (decision(0, "read"), decision(0, "delete"), decision(0, "export")),
        ("allow".into(), "allow".into(), "deny".into())
    );
    assert_eq!(decision(1, "delete"), "deny");

    let q = r#"{"principal": {"id": "bob", "roles": ["member"]}, "resource": {"kind": "mail", "id": "m1",
        "attrs": {"owner": "bob", "classification": "internal"}}, "context": {"mfa": true}}"#;
    let r = http(&server.addr, "POST", "/v1/allowed-actions", q).json();
    assert_eq!(r["actions"], serde_json::json!(["read", "send", "share", "delete"]));
}

#[test]
fn health_policy_metrics_and_security_headers() {
    let server = Server::start(&bundled(), &["--no-watch"]);
    for path in ["/healthz", "/readyz", "/v1/policy", "/metrics"] {
        let r = http(&server.addr, "GET", path, "");
        assert_eq!(r.status, 200, "{path}");
        for (name, value) in [
            ("content-security-policy", "default-src 'self'"),
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("strict-transport-security", "max-age=31536000; includeSubDomains"),
            ("cache-control", "no-store"),
        ] {
            assert_eq!(r.header(name), Some(value), "{path}: {name}");
        }
    }
    let policy = http(&server.addr, "GET", "/v1/policy", "").json();
    assert_eq!(policy["counts"]["roles"], 8);
    assert_eq!(policy["last_reload_error"], serde_json::Value::Null);
    http(&server.addr, "POST", "/v1/check", OWN_MAIL);
    // An explained check is a check: counted too.
    http(&server.addr, "POST", "/v1/check?explain=true", OWN_MAIL);
    let metrics = http(&server.addr, "GET", "/metrics", "").body;
    assert!(metrics.contains("rampart_checks_total{decision=\"allow\"} 2"), "{metrics}");
}

#[test]
fn bad_requests_get_json_errors_never_a_crash() {
    let server = Server::start(&bundled(), &["--no-watch"]);
    let r = http(&server.addr, "POST", "/v1/check", r#"{"principal": {"id": "a"}, "action": "read"}"#);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["field"], "resource");
    let r = http(&server.addr, "POST", "/v1/check", "{not json");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["reason"].as_str().unwrap().contains("invalid request"));
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(2 << 20));
    assert_eq!(http(&server.addr, "POST", "/v1/check", &big).status, 413);
    assert_eq!(http(&server.addr, "GET", "/v1/check", "").status, 405);
    assert_eq!(http(&server.addr, "GET", "/nowhere", "").json()["error"]["status"], 404);
    let unknown = r#"{"principal": {"id": "a"}, "resource": {"kind": "calendar", "id": "c"}}"#;
    assert_eq!(http(&server.addr, "POST", "/v1/allowed-actions", unknown).status, 400);
    // Still serving.
    assert_eq!(http(&server.addr, "GET", "/healthz", "").status, 200);
}

#[test]
fn a_reload_is_seen_by_clients_and_shutdown_is_graceful() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-reload");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("p.policy"), "resource doc { actions: read }\nrole reader\n").unwrap();
    let mut server = Server::start(&dir, &["--no-watch"]);
    let ask =
        r#"{"principal": {"id": "a", "roles": ["reader"]}, "action": "read", "resource": {"kind": "doc", "id": "d"}}"#;
    assert_eq!(http(&server.addr, "POST", "/v1/check", ask).json()["decision"], "deny");
    std::fs::write(dir.join("p.policy"), "resource doc { actions: read }\nrole reader { grant doc:read }\n").unwrap();
    Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while http(&server.addr, "POST", "/v1/check", ask).json()["decision"] != "allow" {
        assert!(std::time::Instant::now() < deadline, "the reload was never seen");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(http(&server.addr, "GET", "/v1/policy", "").json()["version"]["number"], 2);
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn authzen_evaluation_evaluations_and_configuration() {
    let server = Server::start(&bundled(), &["--no-watch"]);
    let one = r#"{"subject": {"type": "user", "id": "alice", "properties": {"roles": ["member"], "department": "eng"}},
        "action": {"name": "delete"},
        "resource": {"type": "mail", "id": "m-42", "properties": {"owner": "alice", "classification": "internal"}},
        "context": {"mfa": true}}"#;
    let r = http(&server.addr, "POST", "/access/v1/evaluation", one);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = r.json();
    assert_eq!(r["decision"], true);
    assert_eq!(r["context"]["reasons"][0]["role_path"], serde_json::json!(["member"]));

    // Shared defaults, three evaluations: allow, deny, allow.
    let many = |semantic: &str| {
        format!(
            r#"{{"subject": {{"type": "user", "id": "bob", "properties": {{"roles": ["member"]}}}},
                "context": {{"mfa": true}},
                "evaluations": [
                  {{"action": {{"name": "read"}}, "resource": {{"type": "mail", "id": "m1", "properties": {{"owner": "bob", "classification": "internal"}}}}}},
                  {{"action": {{"name": "delete"}}, "resource": {{"type": "mail", "id": "m2", "properties": {{"owner": "eve", "classification": "internal"}}}}}},
                  {{"action": {{"name": "send"}}, "resource": {{"type": "mail", "id": "m3", "properties": {{"owner": "bob", "classification": "internal"}}}}}}
                ],
                "options": {{"evaluations_semantic": "{semantic}"}}}}"#
        )
    };
    let decisions = |semantic: &str| -> Vec<bool> {
        let r = http(&server.addr, "POST", "/access/v1/evaluations", &many(semantic)).json();
        r["evaluations"].as_array().unwrap().iter().map(|e| e["decision"].as_bool().unwrap()).collect()
    };
    assert_eq!(decisions("execute_all"), [true, false, true]);
    assert_eq!(decisions("deny_on_first_deny"), [true, false]);
    assert_eq!(decisions("permit_on_first_permit"), [true]);
    assert_eq!(http(&server.addr, "POST", "/access/v1/evaluations", &many("sometimes")).status, 400);

    let missing = r#"{"subject": {"type": "user", "id": "a"}, "action": {"name": "read"}}"#;
    let r = http(&server.addr, "POST", "/access/v1/evaluation", missing);
    assert_eq!((r.status, r.json()["error"]["field"].as_str()), (400, Some("resource")));

    let config = http(&server.addr, "GET", "/.well-known/authzen-configuration", "").json();
    assert_eq!(config["access_evaluation_endpoint"], format!("http://{}/access/v1/evaluation", server.addr));
    assert_eq!(config["access_evaluations_endpoint"], format!("http://{}/access/v1/evaluations", server.addr));
}

#[test]
fn bearer_tokens_guard_the_api_but_not_healthz() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-tokens");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tokens"), "# the sidecar's token\nsidecar-7f3a\n").unwrap();
    let server = Server::start(&bundled(), &["--no-watch", "--token-file", dir.join("tokens").to_str().unwrap()]);
    let r = http(&server.addr, "POST", "/v1/check", OWN_MAIL);
    assert_eq!((r.status, r.header("www-authenticate")), (401, Some("Bearer")));
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "errors carry the security headers too");
    let wrong = http_with(&server.addr, "POST", "/v1/check", OWN_MAIL, "Authorization: Bearer sidecar-7f3b\r\n");
    assert_eq!(wrong.status, 401);
    let right = http_with(&server.addr, "POST", "/v1/check", OWN_MAIL, "Authorization: Bearer sidecar-7f3a\r\n");
    assert_eq!((right.status, right.json()["decision"].as_str()), (200, Some("allow")));
    assert_eq!(http(&server.addr, "GET", "/healthz", "").status, 200);
    assert_eq!(http(&server.addr, "GET", "/metrics", "").status, 401);
}

#[test]
fn clients_are_rate_limited_with_retry_after() {
    let server = Server::start(
        &bundled(),
        &["--no-watch", "--rate-limit", "0.1", "--burst", "3", "--trusted-proxy", "127.0.0.1"],
    );
    // Behind the trusted proxy (the loopback peer), X-Forwarded-For names the client.
    let from = |client: &str| {
        http_with(&server.addr, "POST", "/v1/check", OWN_MAIL, &format!("X-Forwarded-For: {client}\r\n"))
    };
    let statuses: Vec<u16> = (0..5).map(|_| from("203.0.113.5").status).collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let limited = from("203.0.113.5");
    assert_eq!(limited.header("retry-after"), Some("10"));
    assert_eq!(limited.json()["error"]["status"], 429);
    assert_eq!(limited.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(from("203.0.113.6").status, 200, "another client has its own allowance");
    assert_eq!(http(&server.addr, "GET", "/healthz", "").status, 200, "health checks are not limited");
}

#[test]
fn every_request_is_logged_with_an_id_and_denies_as_security_events() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-logs");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let decisions = dir.join("decisions.jsonl");
    let mut server = Server::start(&bundled(), &["--no-watch", "--decision-log", decisions.to_str().unwrap()]);
    let r = http_with(&server.addr, "POST", "/v1/check", OWN_MAIL, "X-Request-Id: trace-42\r\n");
    assert_eq!(r.header("x-request-id"), Some("trace-42"));
    let generated = http(&server.addr, "GET", "/healthz", "");
    assert!(generated.header("x-request-id").is_some_and(|id| id.len() >= 8));
    let pii = include_str!("../policies/examples/member-reads-pii-mail-without-mfa.json");
    assert_eq!(http(&server.addr, "POST", "/v1/check", pii).json()["decision"], "deny");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let line = loop {
        let found = server.log.lock().unwrap().iter().find(|l| l.contains("\"trace-42\"")).cloned();
        if let Some(l) = found {
            break l;
        }
        assert!(std::time::Instant::now() < deadline, "no log line for the request");
        std::thread::sleep(Duration::from_millis(10));
    };
    let line: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (line["event"].as_str(), line["path"].as_str(), line["status"].as_u64()),
        (Some("http.request"), Some("/v1/check"), Some(200))
    );
    assert_eq!(server.stop(), Some(0)); // a graceful stop flushes the decision log
    let events = std::fs::read_to_string(&decisions).unwrap_or_default();
    assert!(events.contains("\"event\":\"authz.decision\"") && events.contains("pii-requires-mfa"), "{events}");
}

#[test]
fn shutdown_finishes_requests_in_flight() {
    let mut server = Server::start(&bundled(), &["--no-watch"]);
    // Start a request and leave its body unfinished.
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (head, tail) = OWN_MAIL.split_at(OWN_MAIL.len() / 2);
    write!(
        stream,
        "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        OWN_MAIL.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // The server is shutting down, and still answers the request it had begun.
    stream.write_all(tail.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains("\"decision\":\"allow\""), "{raw}");
    assert_eq!(server.child.wait().unwrap().code(), Some(0));
}

#[cfg(unix)]
#[test]
fn serves_on_a_unix_socket() {
    use std::os::unix::net::UnixStream;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-unix");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("rampart.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["serve", "--no-watch", "--no-request-log", "-p", bundled().to_str().unwrap(), "--unix"])
        .arg(&socket)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("listening on unix:") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the server exited before listening");
    }
    std::thread::spawn(move || for _ in stderr.lines() {});
    let mut stream = UnixStream::connect(&socket).unwrap();
    write!(
        stream,
        "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{OWN_MAIL}",
        OWN_MAIL.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200") && raw.contains("\"decision\":\"allow\""), "{raw}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!socket.exists(), "the socket is removed on shutdown");
}

#[test]
fn authzen_examples_of_the_specification() {
    // The requests are those of the AuthZEN 1.0 specification's examples; the policy makes
    // the decisions the examples show.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-authzen");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("p.policy"),
        "resource account { actions: can_read }\nresource document { actions: can_read, can_edit }\n\
         allow \"alice-accounts\" {\n    actions: account:can_read\n    principals: \"alice@acme.com\"\n}\n\
         allow \"alice-reads\" {\n    actions: document:can_read\n    principals: \"alice@acme.com\"\n    resources: \"boxcarring.md\"\n}\n\
         allow \"alice-edits\" {\n    actions: document:can_edit\n    principals: \"alice@acme.com\"\n    resources: \"resource-search.md\"\n}\n",
    )
    .unwrap();
    let server = Server::start(&dir, &["--no-watch"]);
    let evaluation = r#"{
      "subject": {"type": "user", "id": "alice@acme.com"},
      "resource": {"type": "account", "id": "123"},
      "action": {"name": "can_read", "properties": {"method": "GET"}},
      "context": {"time": "1985-10-26T01:22-07:00"}
    }"#;
    assert_eq!(http(&server.addr, "POST", "/access/v1/evaluation", evaluation).json()["decision"], true);
    let evaluations = r#"{
      "subject": {"type": "user", "id": "alice@acme.com"},
      "action": {"name": "can_read"},
      "evaluations": [
        {"resource": {"type": "document", "id": "boxcarring.md"}},
        {"resource": {"type": "document", "id": "subject-search.md"}},
        {"action": {"name": "can_edit"}, "resource": {"type": "document", "id": "resource-search.md"}}
      ]
    }"#;
    let r = http(&server.addr, "POST", "/access/v1/evaluations", evaluations).json();
    let decisions: Vec<bool> =
        r["evaluations"].as_array().unwrap().iter().map(|e| e["decision"].as_bool().unwrap()).collect();
    assert_eq!(decisions, [true, false, true]);
}

#[test]
fn the_openapi_description_covers_every_endpoint() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.yaml")).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    for endpoint in [
        "/v1/check",
        "/v1/check/batch",
        "/v1/allowed-actions",
        "/v1/policy",
        "/healthz",
        "/readyz",
        "/metrics",
        "/access/v1/evaluation",
        "/access/v1/evaluations",
        "/.well-known/authzen-configuration",
    ] {
        assert!(paths.contains(&endpoint), "{endpoint} is not in docs/openapi.yaml");
    }
    // Every documented endpoint answers (not 404) on a running server.
    let server = Server::start(&bundled(), &["--no-watch"]);
    for p in paths {
        let method = if doc["paths"][p].get("post").is_some() { "POST" } else { "GET" };
        assert_ne!(http(&server.addr, method, p, "{}").status, 404, "{p}");
    }
}
