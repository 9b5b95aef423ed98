//! Check latency on generated policy sets (see `workload.rs` for their shape), and
//! compile time of the large set. `check/*` cycles through the workload's prebuilt
//! requests (cold request data); `check_fresh/*` decodes each request just before its
//! check, as a service does. Run with `cargo bench --bench check`. The same
//! workloads, side by side with Cedar and Casbin, are in `benches/peers/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod workload;

use criterion::{Criterion, criterion_group, criterion_main};
use rampart::{PolicySet, Request, Snapshot};
use std::hint::black_box;
use std::time::{Duration, Instant};
use workload::Workload;

fn compile(policy: &str) -> Snapshot {
    let mut set = PolicySet::new();
    set.add_source("bench.policy", policy);
    set.compile().unwrap_or_else(|r| panic!("{}", r.render(false)))
}

/// How many of the workload's requests to cycle through: all by default; `POOL=16`
/// keeps the request data in the L1 cache, to see the engine's own cost.
fn pool() -> usize {
    std::env::var("POOL").ok().and_then(|p| p.parse().ok()).unwrap_or(usize::MAX)
}

fn bench_checks(c: &mut Criterion, w: &Workload) {
    let name = w.name;
    let snapshot = compile(&w.rampart_policy());
    let json = w.requests_json();
    let requests: Vec<Request<'_>> =
        json.iter().take(pool()).map(|j| Request::from_json(j, snapshot.limits()).unwrap()).collect();
    let allowed = requests.iter().filter(|r| snapshot.check(r).is_allowed()).count();
    eprintln!("{name}: {} of {} requests allowed", allowed, requests.len());
    let mut i = 0;
    c.bench_function(&format!("check/{name}"), |b| {
        b.iter(|| {
            // A compare, not `%`: a division would cost as much as a plain check.
            i += 1;
            if i == requests.len() {
                i = 0;
            }
            black_box(snapshot.check(black_box(&requests[i])))
        })
    });

    // As a service checks: each request decoded just before its check (untimed), so its
    // data is in cache, while the queries still cycle through the whole workload and
    // reach every part of the snapshot.
    let mut next = 0;
    c.bench_function(&format!("check_fresh/{name}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(FRESH_BATCH);
                let batch: Vec<Request<'_>> = (0..n)
                    .map(|_| {
                        next = if next + 1 == json.len() { 0 } else { next + 1 };
                        Request::from_json(&json[next], snapshot.limits()).unwrap()
                    })
                    .collect();
                let start = Instant::now();
                for r in &batch {
                    black_box(snapshot.check(black_box(r)));
                }
                total += start.elapsed();
                left -= n;
            }
            total
        })
    });
}

/// Requests decoded per timed run in `check_fresh`: few enough that their data stays in
/// the L1 cache, enough that reading the clock is a small part of the time.
const FRESH_BATCH: u64 = 16;

fn checks(c: &mut Criterion) {
    bench_checks(c, &workload::small_rbac(7));
    bench_checks(c, &workload::large_rbac(7));
    bench_checks(c, &workload::abac(7));
}

fn compiling(c: &mut Criterion) {
    let large = workload::large_rbac(7).rampart_policy();
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.bench_function("large_rbac", |b| b.iter(|| black_box(compile(&large))));
    group.finish();
}

criterion_group!(benches, checks, compiling);
criterion_main!(benches);
