//! Throughput across threads: the same checks split over one and two threads sharing one
//! snapshot. Criterion reports the time per check; with two threads it should be close
//! to half the one-thread time on a machine with two free cores.
//! Run with `cargo bench --bench threads`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod workload;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart::{Engine, PolicySet, Request};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn threads(c: &mut Criterion) {
    let w = workload::small_rbac(7);
    let mut set = PolicySet::new();
    set.add_source("small.policy", w.rampart_policy());
    let engine = Engine::from_snapshot(set.compile().unwrap());
    let json = w.requests_json();
    let requests: Vec<Request<'_>> =
        json.iter().map(|j| Request::from_json(j, &rampart::Limits::default()).unwrap()).collect();

    let mut group = c.benchmark_group("throughput/small_rbac");
    group.throughput(Throughput::Elements(1));
    for threads in [1usize, 2] {
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                // Each thread does its share; the elapsed time is the slowest thread's.
                let per_thread = iters.div_ceil(threads as u64);
                std::thread::scope(|s| {
                    let handles: Vec<_> = (0..threads)
                        .map(|t| {
                            let (engine, requests) = (&engine, &requests);
                            s.spawn(move || {
                                let start = Instant::now();
                                let mut i = t * 97 % requests.len();
                                for _ in 0..per_thread {
                                    i += 1;
                                    if i == requests.len() {
                                        i = 0;
                                    }
                                    black_box(engine.check(black_box(&requests[i])));
                                }
                                start.elapsed()
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).max().unwrap_or(Duration::ZERO)
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, threads);
criterion_main!(benches);
