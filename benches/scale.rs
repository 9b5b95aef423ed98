//! Scale: compile time, resident memory and check latency as the policy set grows to
//! 100,000 roles and 1,000,000 grants. Prints a table; run with `cargo bench --bench scale`
//! (it takes a minute or two).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod workload;

use rampart::{Limits, PolicySet, Request};
use std::hint::black_box;
use std::time::Instant;

/// Resident memory of this process, in bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument picks sizes by role count.
    let filter: Option<usize> = std::env::args().skip(1).find(|a| !a.starts_with('-')).and_then(|a| a.parse().ok());
    println!(
        "| roles | grants | policy text | compile | resident growth | snapshot tables | median | p99 | median, 16 hot requests | median, request just decoded |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for roles in [10_000usize, 50_000, 100_000] {
        if filter.is_some_and(|f| f != roles) {
            continue;
        }
        let grants = roles * 10;
        let w = workload::scale(7, roles, grants, roles);
        let text = w.rampart_policy();
        let json = w.requests_json();
        let limits = Limits { max_file_bytes: usize::MAX, ..Limits::default() };
        let before = rss();
        let started = Instant::now();
        let mut set = PolicySet::with_limits(limits);
        set.add_source("scale.policy", text.as_str());
        let snapshot = set.compile().unwrap_or_else(|r| panic!("{}", r.render(false)));
        let compile = started.elapsed();
        drop(set);
        let grown = rss().saturating_sub(before);
        let requests: Vec<Request<'_>> = json.iter().map(|j| Request::from_json(j, &limits).unwrap()).collect();
        // Time each check; the timer's own cost (measured below) is subtracted.
        let timer = {
            let t = Instant::now();
            for _ in 0..100_000 {
                black_box(Instant::now());
            }
            t.elapsed().as_nanos() as f64 / 100_000.0
        };
        let measure = |pool: usize| {
            let mut samples: Vec<f64> = Vec::with_capacity(200_000);
            for round in 0..200_000 {
                let r = &requests[round % pool.min(requests.len())];
                let t = Instant::now();
                black_box(snapshot.check(black_box(r)));
                samples.push((t.elapsed().as_nanos() as f64 - timer).max(0.0));
            }
            samples.sort_by(f64::total_cmp);
            (samples[samples.len() / 2], samples[samples.len() * 99 / 100])
        };
        let (median, p99) = measure(usize::MAX);
        let (hot, _) = measure(16);
        // As a service checks: each request decoded just before its check (untimed).
        let fresh = {
            let mut samples: Vec<f64> = Vec::with_capacity(200_000);
            for round in 0..200_000 {
                let r = Request::from_json(&json[round % json.len()], &limits).unwrap();
                let t = Instant::now();
                black_box(snapshot.check(black_box(&r)));
                samples.push((t.elapsed().as_nanos() as f64 - timer).max(0.0));
            }
            samples.sort_by(f64::total_cmp);
            samples[samples.len() / 2]
        };
        println!(
            "| {roles} | {grants} | {:.1} MB | {:.2} s | {:.0} MiB | {:.0} MiB | {median:.0} ns | {p99:.0} ns | {hot:.0} ns | {fresh:.0} ns |",
            text.len() as f64 / 1e6,
            compile.as_secs_f64(),
            grown as f64 / (1024.0 * 1024.0),
            snapshot.approx_heap_bytes() as f64 / (1024.0 * 1024.0),
        );
    }
}
