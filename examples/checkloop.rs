//! A loop of checks on one generated workload, for profilers that count rather than time
//! (callgrind, cachegrind, `perf stat`): criterion's harness would drown the check in its
//! own instructions.
//!
//! ```sh
//! cargo build --release --example checkloop
//! valgrind --tool=callgrind --toggle-collect='*evaluate*' target/release/examples/checkloop small_rbac 100000
//! ```
//!
//! Arguments: the workload (`small_rbac`, `large_rbac`, `abac`), the number of checks
//! (default 1,000,000) and how many of the workload's 10,000 requests to cycle through
//! (default all; 16 keeps them in cache). It prints the number of allowed checks, so the
//! loop cannot be optimized away. `ENGINE=1` checks through a live `Engine` instead of the
//! snapshot; `REPEAT=n` copies the first n requests over the whole pool.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/workload.rs"]
mod workload;

use rampart::{PolicySet, Request};
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("small_rbac", String::as_str);
    let checks: usize = args.get(1).map_or(1_000_000, |n| n.parse().expect("a number of checks"));
    let pool: usize = args.get(2).map_or(usize::MAX, |n| n.parse().expect("a number of requests"));
    let w = match name {
        "small_rbac" => workload::small_rbac(7),
        "large_rbac" => workload::large_rbac(7),
        "abac" => workload::abac(7),
        other => panic!("unknown workload `{other}`: small_rbac, large_rbac or abac"),
    };
    let mut set = PolicySet::new();
    set.add_source("bench.policy", w.rampart_policy());
    let snapshot = set.compile().unwrap_or_else(|r| panic!("{}", r.render(false)));
    let mut json = w.requests_json();
    // REPEAT=n: the first n requests copied over the whole pool, so the data is as spread
    // out as the full workload's but the branches repeat with period n.
    if let Some(n) = std::env::var("REPEAT").ok().and_then(|n| n.parse::<usize>().ok()) {
        json = (0..json.len()).map(|i| json[i % n].clone()).collect();
    }
    let requests: Vec<Request<'_>> =
        json.iter().take(pool).map(|j| Request::from_json(j, snapshot.limits()).unwrap()).collect();
    let mut allowed = 0usize;
    let mut i = 0;
    // ENGINE=1: through a live `Engine` (its snapshot load, counters and decision log test).
    if std::env::var_os("ENGINE").is_some() {
        let engine = rampart::Engine::from_snapshot(snapshot);
        for _ in 0..checks {
            i += 1;
            if i == requests.len() {
                i = 0;
            }
            allowed += usize::from(black_box(engine.check(black_box(&requests[i]))).is_allowed());
        }
    } else {
        for _ in 0..checks {
            i += 1;
            if i == requests.len() {
                i = 0;
            }
            allowed += usize::from(black_box(snapshot.check(black_box(&requests[i]))).is_allowed());
        }
    }
    println!("{name}: {allowed} of {checks} checks allowed");
}
