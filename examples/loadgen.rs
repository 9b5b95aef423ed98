//! A load generator for the decision server: starts `rampart::server` on an ephemeral
//! loopback port with the bundled policies, then drives `/v1/check` and `/v1/check/batch`
//! from a few keep-alive connections for a bounded time and prints requests per second and
//! latency percentiles.
//!
//! `cargo run --release --example loadgen [-- SECONDS [CONNECTIONS]]` (default 5 s, 2
//! connections; at most 60 s). Loopback only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rampart::Engine;
use rampart::server::{ServerConfig, serve};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const CHECK: &str = include_str!("../policies/examples/member-deletes-own-mail.json");

fn batch_body() -> String {
    let checks: Vec<String> = (0..10)
        .map(|i| {
            format!(
                r#"{{"resource": {{"kind": "mail", "id": "m-{i}", "attrs": {{"owner": "{}", "classification": "internal"}}}}, "actions": ["read", "delete", "export"]}}"#,
                if i % 2 == 0 { "alice" } else { "bob" }
            )
        })
        .collect();
    format!(
        r#"{{"principal": {{"id": "alice", "roles": ["member"]}}, "context": {{"mfa": true}}, "checks": [{}]}}"#,
        checks.join(", ")
    )
}

/// Sends one request on a keep-alive connection and reads the whole response.
fn round_trip(writer: &mut TcpStream, reader: &mut BufReader<TcpStream>, path: &str, body: &str) -> u16 {
    write!(
        writer,
        "POST {path} HTTP/1.1\r\nHost: loadgen\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    status
}

/// Drives one endpoint; returns (requests, requests per second, p50, p99).
fn drive(addr: &str, path: &str, body: &str, seconds: u64, connections: usize) -> (usize, f64, Duration, Duration) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let samples: Vec<Vec<Duration>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                s.spawn(move || {
                    let stream = TcpStream::connect(addr).unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut writer = stream;
                    let mut samples = Vec::new();
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        assert_eq!(round_trip(&mut writer, &mut reader, path, body), 200);
                        samples.push(t.elapsed());
                    }
                    samples
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut all: Vec<Duration> = samples.into_iter().flatten().collect();
    all.sort();
    let n = all.len();
    (n, n as f64 / elapsed, all[n / 2], all[n * 99 / 100])
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5).clamp(1, 60);
    let connections: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2).clamp(1, 64);
    let engine = Engine::builder().path(concat!(env!("CARGO_MANIFEST_DIR"), "/policies")).build().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = ServerConfig { log_requests: false, ..ServerConfig::default() };
    let server = runtime.spawn(serve(engine, listener, config, async {
        let _ = stopped.await;
    }));
    let batch = batch_body();
    println!("{seconds} s per endpoint, {connections} keep-alive connections, loopback, request logs off\n");
    println!("| endpoint | requests | requests/s | p50 | p99 |");
    println!("|---|--:|--:|--:|--:|");
    for (path, body, label) in
        [("/v1/check", CHECK, "/v1/check"), ("/v1/check/batch", batch.as_str(), "/v1/check/batch (30 decisions)")]
    {
        let (n, rps, p50, p99) = drive(&addr, path, body, seconds, connections);
        println!("| {label} | {n} | {rps:.0} | {p50:.0?} | {p99:.0?} |");
    }
    let _ = stop.send(());
    runtime.block_on(server).unwrap().unwrap();
}
