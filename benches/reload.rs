//! Check latency through the live engine, idle and while another thread reloads the
//! policy set in a loop (every reload reads, parses, compiles, diffs and swaps).
//! Run with `cargo bench --bench reload`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, criterion_group, criterion_main};
use rampart::{Engine, Principal, Request, Resource, attr};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const POLICY: &str = r#"
resource mail {
    actions: read, send, delete
    attributes: { owner: string, classification: string }
}
role viewer { grant mail:read }
role member inherits viewer {
    grant mail:send
    grant mail:delete when resource.owner == principal.id
}
deny "pii-requires-mfa" {
    actions: mail:*
    when: resource.classification == "pii" && !context.mfa
}
"#;

fn reloads(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("rampart-bench-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.policy");
    std::fs::write(&file, POLICY).unwrap();
    let engine = Engine::builder().path(&dir).build().unwrap();
    let roles = ["member"];
    let attrs = [attr("owner", "alice"), attr("classification", "internal")];
    let context = [attr("mfa", true)];
    let request =
        Request::new(Principal::new("alice").roles(&roles), "delete", Resource::new("mail", "m1").attrs(&attrs))
            .context(&context);
    assert!(engine.check(&request).is_allowed());

    let mut group = c.benchmark_group("engine_check");
    group.bench_function("idle", |b| b.iter(|| black_box(engine.check(black_box(&request)))));

    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // A comment that changes every time, so every reload swaps a new snapshot.
                std::fs::write(&file, format!("{POLICY}# revision {i}\n")).unwrap();
                engine.reload().unwrap();
                done.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        });
        group.bench_function("during_reloads", |b| b.iter(|| black_box(engine.check(black_box(&request)))));
        stop.store(true, Ordering::Relaxed);
    });
    group.finish();
    let done = done.load(Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("{done} reloads ran during the measurement, {:.0} per second", done as f64 / seconds);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, reloads);
criterion_main!(benches);
