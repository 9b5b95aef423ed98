//! Rampart, Cedar and Casbin side by side on the same generated workloads (see
//! `../workload.rs` and this project's README): load time, memory, check latency
//! (median and p99) and single-thread throughput, after checking that the three engines
//! and a reference evaluator agree on every query.
//!
//! `rampart-peers [WORKLOAD...] [--engines LIST] [--verify] [--seconds S] [--queries N]`,
//! workloads `small_rbac`, `large_rbac`, `abac` (the default: all three) and `scale`.
//! Each engine runs on each workload in a fresh child process (this program run with
//! `--child ENGINE WORKLOAD`), so memory is measured on a clean heap and one engine's
//! garbage never slows another.

#[path = "../../workload.rs"]
mod workload;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use workload::{Cond, Workload};

// ---------------------------------------------------------------------------------------
// Heap accounting: live bytes and allocation count, only while `COUNTING` is set (loads and
// the verification pass), so the timed checks pay one relaxed load per allocation.

struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            LIVE_BYTES.fetch_add(layout.size() as isize, Relaxed);
            ALLOCATIONS.fetch_add(1, Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            LIVE_BYTES.fetch_add(layout.size() as isize, Relaxed);
            ALLOCATIONS.fetch_add(1, Relaxed);
        }
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Relaxed) {
            LIVE_BYTES.fetch_sub(layout.size() as isize, Relaxed);
        }
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
            ALLOCATIONS.fetch_add(1, Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Resident memory, in bytes, from /proc/self/status: `(VmRSS, RssAnon)`. `RssAnon` leaves
/// out file-backed pages, such as the engine's own code being paged in on first use.
fn rss_bytes() -> (i64, i64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

// ---------------------------------------------------------------------------------------
// Options.

const ENGINES: [&str; 3] = ["rampart", "cedar", "casbin"];
const DEFAULT_WORKLOADS: [&str; 3] = ["small_rbac", "large_rbac", "abac"];
const SEED: u64 = 7;

struct Opts {
    workloads: Vec<String>,
    engines: Vec<String>,
    verify_only: bool,
    /// Seconds of per-check latency sampling per engine and workload (throughput gets half).
    seconds: f64,
    /// Keep only the first N queries.
    queries: Option<usize>,
    child: Option<(String, String)>,
}

fn parse_args() -> Result<Opts, String> {
    let mut opts = Opts {
        workloads: Vec::new(),
        engines: ENGINES.iter().map(|e| e.to_string()).collect(),
        verify_only: false,
        seconds: 2.0,
        queries: None,
        child: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--verify" => opts.verify_only = true,
            "--engines" => opts.engines = value("--engines")?.split(',').map(str::to_owned).collect(),
            "--seconds" => opts.seconds = value("--seconds")?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--queries" => opts.queries = Some(value("--queries")?.parse().map_err(|e| format!("--queries: {e}"))?),
            "--child" => {
                let engine = value("--child")?;
                let workload = value("--child")?;
                opts.child = Some((engine, workload));
            }
            "-h" | "--help" => {
                return Err(
                    "usage: rampart-peers [small_rbac|large_rbac|abac|scale ...] [--engines rampart,cedar,casbin] \
                            [--verify] [--seconds S] [--queries N]"
                        .into(),
                );
            }
            w if !w.starts_with('-') => opts.workloads.push(w.to_owned()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if opts.workloads.is_empty() {
        opts.workloads = DEFAULT_WORKLOADS.iter().map(|w| w.to_string()).collect();
    }
    for e in &opts.engines {
        if !ENGINES.contains(&e.as_str()) {
            return Err(format!("unknown engine {e}; engines: {}", ENGINES.join(", ")));
        }
    }
    Ok(opts)
}

fn generate(name: &str, queries: Option<usize>) -> Result<Workload, String> {
    let mut w = match name {
        "small_rbac" => workload::small_rbac(SEED),
        "large_rbac" => workload::large_rbac(SEED),
        "abac" => workload::abac(SEED),
        "scale" => workload::scale(SEED, 100_000, 1_000_000, 100_000),
        other => return Err(format!("unknown workload {other}; workloads: small_rbac, large_rbac, abac, scale")),
    };
    if let Some(n) = queries {
        w.queries.truncate(n.max(1));
    }
    Ok(w)
}

// ---------------------------------------------------------------------------------------
// Measurement.

/// What one child process reports, as one JSON line on stdout.
#[derive(Default)]
struct Report {
    engine: String,
    workload: String,
    /// Median of the loads done (the first one and up to four more within a second).
    load_ns: u64,
    loads: usize,
    /// Growth of the resident set (`VmRSS`) over the first load.
    rss_bytes: i64,
    /// Growth of its anonymous part (`RssAnon`: heap and stacks, not code).
    anon_bytes: i64,
    /// Heap bytes allocated by the first load and still live after it.
    heap_bytes: i64,
    /// One character per query: `1` allow, `0` deny.
    decisions: String,
    /// Queries whose decision came with an error, and the first such error.
    errors: usize,
    first_error: String,
    allocs_per_check: f64,
    timing: Option<Timing>,
}

#[derive(Default, Clone, Copy)]
struct Timing {
    samples: usize,
    median_ns: f64,
    p99_ns: f64,
    /// The 99th percentile, over the queries, of each query's own median: what the slowest
    /// queries cost, with the machine's noise (which strikes any query) filtered out. 0
    /// when the run had too few samples per query (fewer than 9).
    query_p99_ns: f64,
    overhead_ns: f64,
    checks_per_sec: f64,
}

impl Report {
    fn to_json(&self) -> String {
        let t = self.timing.unwrap_or_default();
        serde_json::json!({
            "engine": self.engine, "workload": self.workload, "load_ns": self.load_ns, "loads": self.loads,
            "rss_bytes": self.rss_bytes, "anon_bytes": self.anon_bytes, "heap_bytes": self.heap_bytes, "decisions": self.decisions,
            "errors": self.errors, "first_error": self.first_error, "allocs_per_check": self.allocs_per_check,
            "timed": self.timing.is_some(), "samples": t.samples, "median_ns": t.median_ns, "p99_ns": t.p99_ns,
            "query_p99_ns": t.query_p99_ns, "overhead_ns": t.overhead_ns, "checks_per_sec": t.checks_per_sec,
        })
        .to_string()
    }

    fn from_json(line: &str) -> Result<Report, String> {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("bad child report: {e}"))?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let u = |k: &str| v[k].as_u64().unwrap_or_default();
        let i = |k: &str| v[k].as_i64().unwrap_or_default();
        let f = |k: &str| v[k].as_f64().unwrap_or_default();
        Ok(Report {
            engine: s("engine"),
            workload: s("workload"),
            load_ns: u("load_ns"),
            loads: u("loads") as usize,
            rss_bytes: i("rss_bytes"),
            anon_bytes: i("anon_bytes"),
            heap_bytes: i("heap_bytes"),
            decisions: s("decisions"),
            errors: u("errors") as usize,
            first_error: s("first_error"),
            allocs_per_check: f("allocs_per_check"),
            timing: v["timed"].as_bool().unwrap_or_default().then(|| Timing {
                samples: u("samples") as usize,
                median_ns: f("median_ns"),
                p99_ns: f("p99_ns"),
                query_p99_ns: f("query_p99_ns"),
                overhead_ns: f("overhead_ns"),
                checks_per_sec: f("checks_per_sec"),
            }),
        })
    }
}

/// Loads once with the memory accounting on, then again (up to five loads in all, while
/// they fit in a second) for a steadier time. Keeps the first engine.
fn measure_load<T>(report: &mut Report, mut load: impl FnMut() -> T) -> T {
    let rss_before = rss_bytes();
    LIVE_BYTES.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let start = Instant::now();
    let engine = load();
    let first = start.elapsed();
    COUNTING.store(false, Relaxed);
    report.heap_bytes = LIVE_BYTES.load(Relaxed) as i64;
    let rss_after = rss_bytes();
    report.rss_bytes = rss_after.0 - rss_before.0;
    report.anon_bytes = rss_after.1 - rss_before.1;
    let mut times = vec![first];
    let mut total = first;
    while times.len() < 5 && total < Duration::from_secs(1) {
        let start = Instant::now();
        let again = load();
        let t = start.elapsed();
        drop(again);
        times.push(t);
        total += t;
    }
    times.sort();
    report.load_ns = times[times.len() / 2].as_nanos() as u64;
    report.loads = times.len();
    engine
}

/// Decides every query once, with allocation counting on; `decide` gives the decision and
/// an error description when the engine reported one.
fn verify(report: &mut Report, n: usize, mut decide: impl FnMut(usize) -> (bool, Option<String>)) {
    let mut decisions = String::with_capacity(n);
    let start = Instant::now();
    ALLOCATIONS.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let mut errors = Vec::new();
    for i in 0..n {
        let (allowed, error) = decide(i);
        decisions.push(if allowed { '1' } else { '0' });
        if let Some(e) = error {
            errors.push(format!("query {i}: {e}"));
        }
    }
    COUNTING.store(false, Relaxed);
    report.allocs_per_check = ALLOCATIONS.load(Relaxed) as f64 / n as f64;
    report.decisions = decisions;
    report.errors = errors.len();
    report.first_error = errors.into_iter().next().unwrap_or_default();
    eprintln!(
        "  ({} on {}: load {}, verification pass {})",
        report.engine,
        report.workload,
        duration(report.load_ns as f64),
        duration(start.elapsed().as_nanos() as f64)
    );
}

/// The median cost of reading the clock twice in a row: what a per-check sample adds to the
/// check's own time.
fn timer_overhead() -> f64 {
    let mut samples: Vec<u64> = (0..200_000)
        .map(|_| {
            let a = Instant::now();
            let b = Instant::now();
            (b - a).as_nanos() as u64
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2] as f64
}

/// Times `check` on the queries in order, cycling: first each call alone, between two reads
/// of `Instant::now()`, for `seconds` of checking (at least 1,000 samples or one pass, at
/// most 2,000,000), then in batches for half that time (at least one batch), for the
/// throughput. `prep` builds
/// the argument of one call outside the timed region.
fn time_checks<P>(
    n: usize,
    seconds: f64,
    mut prep: impl FnMut(usize) -> P,
    mut check: impl FnMut(P) -> bool,
) -> Timing {
    let budget = Duration::from_secs_f64(seconds);
    // Warm up: one pass, or a tenth of the budget.
    let start = Instant::now();
    for i in 0..n {
        black_box(check(prep(i)));
        if start.elapsed() > budget / 10 {
            break;
        }
    }

    let overhead = timer_overhead();
    let min_samples = n.min(1_000);
    let max_samples = 2_000_000;
    let budget_ns = budget.as_nanos() as u64;
    let mut samples: Vec<u64> = Vec::with_capacity(max_samples.min(1 << 16));
    let (mut i, mut total) = (0, 0u64);
    while samples.len() < max_samples && (total < budget_ns || samples.len() < min_samples) {
        let p = prep(i);
        let t0 = Instant::now();
        let d = check(p);
        let t1 = Instant::now();
        black_box(d);
        let ns = (t1 - t0).as_nanos() as u64;
        samples.push(ns);
        total += ns;
        i += 1;
        if i == n {
            i = 0;
        }
    }
    // Sample k timed query k % n: each query's own median, then their 99th percentile.
    let query_p99 = if samples.len() >= 9 * n {
        let mut per_query: Vec<Vec<u64>> = vec![Vec::with_capacity(samples.len() / n + 1); n];
        for (k, &ns) in samples.iter().enumerate() {
            per_query[k % n].push(ns);
        }
        let mut medians: Vec<u64> = per_query
            .iter_mut()
            .map(|v| {
                v.sort_unstable();
                v[v.len() / 2]
            })
            .collect();
        medians.sort_unstable();
        (medians[((n as f64 * 0.99) as usize).min(n - 1)] as f64 - overhead).max(0.0)
    } else {
        0.0
    };
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)] as f64;
    let (median, p99) = ((at(0.5) - overhead).max(0.0), (at(0.99) - overhead).max(0.0));

    // Throughput: batches of prepared arguments, timed as a whole, sized to a tenth of the
    // budget each from the median latency.
    let chunk = ((budget_ns as f64 / 10.0 / median.max(1.0)) as usize).clamp(1, n);
    let (mut done, mut elapsed, mut next) = (0usize, Duration::ZERO, 0usize);
    while elapsed < budget / 2 {
        let batch: Vec<P> = (0..chunk).map(|k| prep((next + k) % n)).collect();
        next = (next + chunk) % n;
        let t = Instant::now();
        for p in batch {
            black_box(check(p));
        }
        elapsed += t.elapsed();
        done += chunk;
    }
    Timing {
        samples: samples.len(),
        median_ns: median,
        p99_ns: p99,
        query_p99_ns: query_p99,
        overhead_ns: overhead,
        checks_per_sec: done as f64 / elapsed.as_secs_f64(),
    }
}

// ---------------------------------------------------------------------------------------
// Rampart.

fn run_rampart(w: &Workload, opts: &Opts, report: &mut Report) {
    use rampart::{Limits, PolicySet, Request};
    let policy = w.rampart_policy();
    // The scale workload is one file larger than the default limit on a file's size.
    let defaults = Limits::default();
    let limits = Limits { max_file_bytes: defaults.max_file_bytes.max(policy.len()), ..defaults };
    let snapshot = measure_load(report, || {
        let mut set = PolicySet::with_limits(limits);
        set.add_source("workload.policy", policy.as_str());
        set.compile().unwrap_or_else(|r| panic!("rampart: {}", r.render(false)))
    });
    // Requests: parsed once, outside the timed region; they carry the user's role names.
    let json = w.requests_json();
    let requests: Vec<Request<'_>> =
        json.iter().map(|j| Request::from_json(j, snapshot.limits()).expect("rampart request")).collect();
    verify(report, requests.len(), |i| {
        let d = snapshot.check(&requests[i]);
        let error = if let Some(p) = d.problem() {
            Some(format!("{p:?}"))
        } else if let Some(e) = d.errors().first() {
            Some(format!("{e:?}"))
        } else {
            d.unknown_roles().next().map(|r| format!("unknown role {r}"))
        };
        (d.is_allowed(), error)
    });
    if !opts.verify_only {
        report.timing =
            Some(time_checks(requests.len(), opts.seconds, |i| &requests[i], |r| snapshot.check(r).is_allowed()));
    }
}

// ---------------------------------------------------------------------------------------
// Cedar: users and roles are entities (a user's parents are its roles, a role's parent the
// role it inherits); each grant is a `permit` on `principal in Role::"r.."`; each deny
// rule a `forbid` per permission pattern. Resources are entities too, with their
// attributes; the context holds ip (an `ipaddr`), mfa and hour.

fn cedar_cond(c: &Cond) -> String {
    let join = |items: &[Cond], op: &str| {
        let parts: Vec<String> = items.iter().map(cedar_cond).collect();
        format!("({})", parts.join(op))
    };
    match c {
        Cond::Owner => "resource.owner == principal".into(),
        Cond::SameDepartment => "resource.department == principal.department".into(),
        Cond::ClearanceCoversLevel => "principal.clearance >= resource.level".into(),
        Cond::ClearanceAboveLevel => "principal.clearance > resource.level".into(),
        Cond::ClearanceAtLeast(n) => format!("principal.clearance >= {n}"),
        Cond::LevelAbove(n) => format!("resource.level > {n}"),
        Cond::Pii => "resource.classification == \"pii\"".into(),
        Cond::Archived => "resource.archived".into(),
        Cond::Suspended => "principal.suspended".into(),
        Cond::Mfa => "context.mfa".into(),
        Cond::IpIn(net) => format!("context.ip.isInRange(ip(\"{net}\"))"),
        Cond::HourAtLeast(n) => format!("context.hour >= {n}"),
        Cond::HourBefore(n) => format!("context.hour < {n}"),
        Cond::DepartmentIn(ds) => {
            let items: Vec<String> = ds.iter().map(|d| format!("\"{d}\"")).collect();
            format!("[{}].contains(principal.department)", items.join(", "))
        }
        Cond::Not(inner) => format!("!({})", cedar_cond(inner)),
        Cond::And(cs) => join(cs, " && "),
        Cond::Or(cs) => join(cs, " || "),
    }
}

fn cedar_policies(w: &Workload) -> String {
    let mut out = String::new();
    for d in &w.denies {
        for p in &d.patterns {
            let action = p.action.map_or(String::new(), |a| format!(" == Action::\"{}\"", w.kinds[0].actions[a]));
            let resource = p.kind.map_or(String::new(), |k| format!(" is {}", w.kinds[k].name));
            let _ = writeln!(
                out,
                "@id(\"{}\")\nforbid(principal, action{action}, resource{resource}) when {{ {} }};",
                d.id,
                cedar_cond(&d.when)
            );
        }
    }
    for role in &w.roles {
        for g in &role.grants {
            let kind = &w.kinds[g.kind];
            let _ = write!(
                out,
                "permit(principal in Role::\"{}\", action == Action::\"{}\", resource is {})",
                role.name, kind.actions[g.action], kind.name
            );
            if let Some(c) = &g.cond {
                let _ = write!(out, " when {{ {} }}", cedar_cond(c));
            }
            out.push_str(";\n");
        }
    }
    out
}

fn uid_json(ty: &str, id: &str) -> String {
    format!("{{\"type\": {}, \"id\": {}}}", workload::json_str(ty), workload::json_str(id))
}

/// Users and roles, as Cedar's entity JSON.
fn cedar_principals(w: &Workload) -> String {
    let mut items = Vec::with_capacity(w.roles.len() + w.users.len());
    for r in &w.roles {
        let parents = r.parent.map_or(String::new(), |p| uid_json("Role", &w.roles[p].name));
        items.push(format!("{{\"uid\": {}, \"attrs\": {{}}, \"parents\": [{parents}]}}", uid_json("Role", &r.name)));
    }
    for u in &w.users {
        let parents: Vec<String> = u.roles.iter().map(|r| uid_json("Role", &w.roles[*r].name)).collect();
        let attrs = u.attrs.as_ref().map_or(String::new(), |a| {
            format!(
                "\"department\": {}, \"clearance\": {}, \"suspended\": {}",
                workload::json_str(a.department),
                a.clearance,
                a.suspended
            )
        });
        items.push(format!(
            "{{\"uid\": {}, \"attrs\": {{{attrs}}}, \"parents\": [{}]}}",
            uid_json("User", &u.id),
            parents.join(", ")
        ));
    }
    format!("[{}]", items.join(",\n"))
}

/// The queries' resources, as Cedar's entity JSON (the owner is a `User` reference).
fn cedar_resources(w: &Workload) -> String {
    let items: Vec<String> = w
        .queries
        .iter()
        .map(|q| {
            let mut attrs = format!("\"owner\": {{\"__entity\": {}}}", uid_json("User", &w.users[q.owner].id));
            if let Some(a) = &q.attrs {
                let _ = write!(
                    attrs,
                    ", \"department\": {}, \"level\": {}, \"classification\": {}, \"archived\": {}",
                    workload::json_str(a.department),
                    a.level,
                    workload::json_str(a.classification),
                    a.archived
                );
            }
            format!(
                "{{\"uid\": {}, \"attrs\": {{{attrs}}}, \"parents\": []}}",
                uid_json(&w.kinds[q.kind].name, &q.resource)
            )
        })
        .collect();
    format!("[{}]", items.join(",\n"))
}

fn run_cedar(w: &Workload, opts: &Opts, report: &mut Report) {
    use cedar_policy::{
        Authorizer, Context, Decision, Entities, EntityId, EntityTypeName, EntityUid, PolicySet, Request,
        RestrictedExpression,
    };
    use std::str::FromStr;
    let policies_text = cedar_policies(w);
    let principals_json = cedar_principals(w);
    let (policies, entities) = measure_load(report, || {
        let policies = PolicySet::from_str(&policies_text).unwrap_or_else(|e| panic!("cedar policies: {e:?}"));
        let entities =
            Entities::from_json_str(&principals_json, None).unwrap_or_else(|e| panic!("cedar entities: {e:?}"));
        (policies, entities)
    });
    // The resources the queries name, with their attributes: added after the load is
    // measured (they are the application's data, which Rampart and Casbin get in requests).
    let entities = if w.has_conditions() {
        entities.add_entities_from_json_str(&cedar_resources(w), None).unwrap_or_else(|e| panic!("cedar: {e:?}"))
    } else {
        entities
    };
    let uid = |ty: &str, id: &str| {
        EntityUid::from_type_name_and_id(EntityTypeName::from_str(ty).expect("type name"), EntityId::new(id))
    };
    let requests: Vec<Request> = w
        .queries
        .iter()
        .map(|q| {
            let kind = &w.kinds[q.kind];
            let context = match &q.context {
                Some(c) => Context::from_pairs([
                    ("ip".to_owned(), RestrictedExpression::new_ip(&c.ip)),
                    ("mfa".to_owned(), RestrictedExpression::new_bool(c.mfa)),
                    ("hour".to_owned(), RestrictedExpression::new_long(c.hour)),
                ])
                .expect("cedar context"),
                None => Context::empty(),
            };
            Request::new(
                uid("User", &w.users[q.user].id),
                uid("Action", &kind.actions[q.action]),
                uid(&kind.name, &q.resource),
                context,
                None,
            )
            .expect("cedar request")
        })
        .collect();
    let authorizer = Authorizer::new();
    verify(report, requests.len(), |i| {
        let response = authorizer.is_authorized(&requests[i], &policies, &entities);
        let error = response.diagnostics().errors().next().map(|e| e.to_string());
        (response.decision() == Decision::Allow, error)
    });
    if !opts.verify_only {
        report.timing = Some(time_checks(
            requests.len(),
            opts.seconds,
            |i| &requests[i],
            |r| authorizer.is_authorized(r, &policies, &entities).decision() == Decision::Allow,
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Casbin: `g` lines give users their roles and roles their parent; `p` lines are the grants
// (and the deny rules, with effect `deny` and `*` patterns). A condition is a Rhai
// expression in the policy line, run with `eval`; the request's subject, object and
// context are then Rhai maps.

fn casbin_cond(c: &Cond) -> String {
    let join = |items: &[Cond], op: &str| {
        let parts: Vec<String> = items.iter().map(casbin_cond).collect();
        format!("({})", parts.join(op))
    };
    // Rhai string literals in backquotes: a CSV field cannot hold a double quote.
    match c {
        Cond::Owner => "r.obj.owner == r.sub.id".into(),
        Cond::SameDepartment => "r.obj.department == r.sub.department".into(),
        Cond::ClearanceCoversLevel => "r.sub.clearance >= r.obj.level".into(),
        Cond::ClearanceAboveLevel => "r.sub.clearance > r.obj.level".into(),
        Cond::ClearanceAtLeast(n) => format!("r.sub.clearance >= {n}"),
        Cond::LevelAbove(n) => format!("r.obj.level > {n}"),
        Cond::Pii => "r.obj.classification == `pii`".into(),
        Cond::Archived => "r.obj.archived".into(),
        Cond::Suspended => "r.sub.suspended".into(),
        Cond::Mfa => "r.ctx.mfa".into(),
        Cond::IpIn(net) => format!("ipMatch(r.ctx.ip, `{net}`)"),
        Cond::HourAtLeast(n) => format!("r.ctx.hour >= {n}"),
        Cond::HourBefore(n) => format!("r.ctx.hour < {n}"),
        Cond::DepartmentIn(ds) => {
            let items: Vec<String> = ds.iter().map(|d| format!("r.sub.department == `{d}`")).collect();
            format!("({})", items.join(" || "))
        }
        Cond::Not(inner) => format!("!({})", casbin_cond(inner)),
        Cond::And(cs) => join(cs, " && "),
        Cond::Or(cs) => join(cs, " || "),
    }
}

/// Which parts of the Casbin model a workload needs.
struct CasbinShape {
    /// Conditions: subject and object are maps, and the policy has a `cond` column.
    attrs: bool,
    /// The request has a context map.
    context: bool,
    /// Deny rules: an `eft` column, deny-overrides effect, `*` subjects.
    deny: bool,
    any_kind: bool,
    any_action: bool,
}

fn casbin_shape(w: &Workload) -> CasbinShape {
    let patterns = || w.denies.iter().flat_map(|d| &d.patterns);
    CasbinShape {
        attrs: w.has_conditions(),
        context: w.queries.iter().any(|q| q.context.is_some()),
        deny: !w.denies.is_empty(),
        any_kind: patterns().any(|p| p.kind.is_none()),
        any_action: patterns().any(|p| p.action.is_none()),
    }
}

fn casbin_model(s: &CasbinShape) -> String {
    let r = if s.context { "sub, obj, act, ctx" } else { "sub, obj, act" };
    let p = match (s.attrs, s.deny) {
        (true, true) => "sub, obj, act, cond, eft",
        (true, false) => "sub, obj, act, cond",
        (false, true) => "sub, obj, act, eft",
        (false, false) => "sub, obj, act",
    };
    let e = if s.deny {
        "some(where (p.eft == allow)) && !some(where (p.eft == deny))"
    } else {
        "some(where (p.eft == allow))"
    };
    let (sub, kind) = if s.attrs { ("r.sub.id", "r.obj.kind") } else { ("r.sub", "r.obj") };
    let mut m = Vec::new();
    // Cheapest and most selective tests first: the kind, then the action.
    m.push(if s.any_kind { format!("(p.obj == \"*\" || {kind} == p.obj)") } else { format!("{kind} == p.obj") });
    m.push(if s.any_action { "(p.act == \"*\" || r.act == p.act)".into() } else { "r.act == p.act".into() });
    m.push(if s.deny { format!("(p.sub == \"*\" || g({sub}, p.sub))") } else { format!("g({sub}, p.sub)") });
    if s.attrs {
        m.push("(p.cond == \"\" || eval(p.cond))".into());
    }
    format!(
        "[request_definition]\nr = {r}\n\n[policy_definition]\np = {p}\n\n[role_definition]\ng = _, _\n\n\
         [policy_effect]\ne = {e}\n\n[matchers]\nm = {}\n",
        m.join(" && ")
    )
}

/// The policy as Casbin CSV lines: deny rules first, then grants, then role links.
fn casbin_csv(w: &Workload, s: &CasbinShape) -> String {
    let mut out = String::new();
    let line = |out: &mut String, sub: &str, obj: &str, act: &str, cond: Option<&Cond>, eft: &str| {
        let _ = write!(out, "p, {sub}, {obj}, {act}");
        if s.attrs {
            let _ = write!(out, ", \"{}\"", cond.map(casbin_cond).unwrap_or_default());
        }
        if s.deny {
            let _ = write!(out, ", {eft}");
        }
        out.push('\n');
    };
    for d in &w.denies {
        for p in &d.patterns {
            let obj = p.kind.map_or("*", |k| &w.kinds[k].name);
            let act = p.action.map_or("*", |a| &w.kinds[0].actions[a]);
            line(&mut out, "*", obj, act, Some(&d.when), "deny");
        }
    }
    for role in &w.roles {
        for g in &role.grants {
            let kind = &w.kinds[g.kind];
            line(&mut out, &role.name, &kind.name, &kind.actions[g.action], g.cond.as_ref(), "allow");
        }
    }
    for role in &w.roles {
        if let Some(p) = role.parent {
            let _ = writeln!(out, "g, {}, {}", role.name, w.roles[p].name);
        }
    }
    for u in &w.users {
        for r in &u.roles {
            let _ = writeln!(out, "g, {}, {}", u.id, w.roles[*r].name);
        }
    }
    out
}

fn run_casbin(w: &Workload, opts: &Opts, report: &mut Report) {
    use casbin::prelude::*;
    use casbin::rhai::{Dynamic, Map};
    let shape = casbin_shape(w);
    let model_text = casbin_model(&shape);
    let csv = casbin_csv(w, &shape);
    // Enforcer::new is async; with a string model and adapter nothing waits on I/O, so a
    // current-thread runtime drives it. It is built before the load is measured.
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("tokio runtime");
    let enforcer = measure_load(report, || {
        runtime.block_on(async {
            let model = DefaultModel::from_str(&model_text).await.unwrap_or_else(|e| panic!("casbin model: {e}"));
            Enforcer::new(model, StringAdapter::new(&csv)).await.unwrap_or_else(|e| panic!("casbin: {e}"))
        })
    });
    // Requests: Rhai values built once, outside the timed region; each call gets a clone
    // (`enforce` takes its arguments by value), made outside the timed region too.
    let map = |pairs: Vec<(&str, Dynamic)>| -> Dynamic {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.insert(k.into(), v);
        }
        Dynamic::from_map(m)
    };
    let text = |s: &str| Dynamic::from(s.to_owned());
    let requests: Vec<Vec<Dynamic>> = w
        .queries
        .iter()
        .map(|q| {
            let user = &w.users[q.user];
            let kind = &w.kinds[q.kind];
            let act = text(&kind.actions[q.action]);
            if !shape.attrs {
                return vec![text(&user.id), text(&kind.name), act];
            }
            let mut sub = vec![("id", text(&user.id))];
            if let Some(a) = &user.attrs {
                sub.push(("department", text(a.department)));
                sub.push(("clearance", Dynamic::from(a.clearance as i32)));
                sub.push(("suspended", Dynamic::from(a.suspended)));
            }
            let mut obj =
                vec![("kind", text(&kind.name)), ("id", text(&q.resource)), ("owner", text(&w.users[q.owner].id))];
            if let Some(a) = &q.attrs {
                obj.push(("department", text(a.department)));
                obj.push(("level", Dynamic::from(a.level as i32)));
                obj.push(("classification", text(a.classification)));
                obj.push(("archived", Dynamic::from(a.archived)));
            }
            let mut args = vec![map(sub), map(obj), act];
            if shape.context {
                let c = q.context.as_ref().expect("every query of a workload with context has one");
                args.push(map(vec![
                    ("ip", text(&c.ip)),
                    ("mfa", Dynamic::from(c.mfa)),
                    ("hour", Dynamic::from(c.hour as i32)),
                ]));
            }
            args
        })
        .collect();
    verify(report, requests.len(), |i| match enforcer.enforce(requests[i].clone()) {
        Ok(allowed) => (allowed, None),
        Err(e) => (false, Some(e.to_string())),
    });
    if !opts.verify_only {
        report.timing = Some(time_checks(
            requests.len(),
            opts.seconds,
            |i| requests[i].clone(),
            |args| enforcer.enforce(args).unwrap_or(false),
        ));
    }
}

// ---------------------------------------------------------------------------------------
// The parent: one child per engine and workload, then the comparison and the table.

fn run_child(opts: &Opts, engine: &str, workload: &str) -> Result<(), String> {
    let w = generate(workload, opts.queries)?;
    let mut report = Report { engine: engine.into(), workload: workload.into(), ..Report::default() };
    let start = Instant::now();
    match engine {
        "rampart" => run_rampart(&w, opts, &mut report),
        "cedar" => run_cedar(&w, opts, &mut report),
        "casbin" => run_casbin(&w, opts, &mut report),
        other => return Err(format!("unknown engine {other}")),
    }
    eprintln!("  ({engine} on {workload}: {:.1} s)", start.elapsed().as_secs_f64());
    println!("{}", report.to_json());
    Ok(())
}

fn spawn_child(opts: &Opts, engine: &str, workload: &str) -> Result<Report, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.args(["--child", engine, workload, "--seconds", &opts.seconds.to_string()]);
    if let Some(n) = opts.queries {
        cmd.args(["--queries", &n.to_string()]);
    }
    if opts.verify_only {
        cmd.arg("--verify");
    }
    let out = cmd.stderr(std::process::Stdio::inherit()).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("{engine} on {workload} failed ({})", out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    Report::from_json(stdout.lines().last().unwrap_or_default())
}

fn describe_query(w: &Workload, i: usize) -> String {
    w.request_json(i)
}

fn duration(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

fn bytes(b: i64) -> String {
    let f = b as f64;
    if b.abs() < 1024 * 1024 { format!("{:.0} KiB", f / 1024.0) } else { format!("{:.1} MiB", f / 1048576.0) }
}

fn rate(per_sec: f64) -> String {
    if per_sec >= 1e6 {
        format!("{:.2} M", per_sec / 1e6)
    } else if per_sec >= 1e3 {
        format!("{:.1} k", per_sec / 1e3)
    } else {
        format!("{per_sec:.0}")
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown", |m| m.trim_start_matches([' ', '\t', ':']));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {model}")
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some((engine, workload)) = &opts.child {
        return match run_child(&opts, engine, workload) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        };
    }

    println!("Machine: {}; seed {SEED}; {} s of latency sampling per engine and workload.\n", machine(), opts.seconds);
    let mut rows = Vec::new();
    let mut disagreements = 0;
    for name in &opts.workloads {
        let w = match generate(name, opts.queries) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        let expected: String = (0..w.queries.len()).map(|i| if w.decide(i) { '1' } else { '0' }).collect();
        let allows = expected.bytes().filter(|b| *b == b'1').count();
        println!("{name}: {}", w.summary());
        println!("  reference decisions: {allows} allow, {} deny", expected.len() - allows);
        for engine in &opts.engines {
            eprintln!("running {engine} on {name}...");
            let report = match spawn_child(&opts, engine, name) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(1);
                }
            };
            let differ: Vec<usize> = (0..expected.len())
                .filter(|&i| report.decisions.as_bytes().get(i) != expected.as_bytes().get(i))
                .collect();
            let engine_allows = report.decisions.bytes().filter(|b| *b == b'1').count();
            print!(
                "  {engine}: {engine_allows} allow, {} deny; {} disagreement(s) with the reference",
                report.decisions.len() - engine_allows,
                differ.len()
            );
            print!(
                "; load {} (median of {}), VmRSS +{}, RssAnon +{}, live heap +{}",
                duration(report.load_ns as f64),
                report.loads,
                bytes(report.rss_bytes),
                bytes(report.anon_bytes),
                bytes(report.heap_bytes)
            );
            if report.errors > 0 {
                print!("; {} decision(s) with errors, first: {}", report.errors, report.first_error);
            }
            println!();
            for &i in differ.iter().take(5) {
                println!(
                    "    query {i}: expected {}, got {}: {}",
                    &expected[i..=i],
                    report.decisions.get(i..=i).unwrap_or("-"),
                    describe_query(&w, i)
                );
            }
            disagreements += differ.len() + report.errors;
            rows.push(report);
        }
        println!();
    }

    if !opts.verify_only {
        println!(
            "| workload | engine | load | memory: RSS growth (all / anon) | live heap | median | p99 | p99 of per-query medians | checks/s | allocs/check |"
        );
        println!("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        for r in &rows {
            let t = r.timing.unwrap_or_default();
            println!(
                "| {} | {} | {} | {} / {} | {} | {} | {} | {} | {} | {:.1} |",
                r.workload,
                r.engine,
                duration(r.load_ns as f64),
                bytes(r.rss_bytes),
                bytes(r.anon_bytes),
                bytes(r.heap_bytes),
                duration(t.median_ns),
                duration(t.p99_ns),
                if t.query_p99_ns > 0.0 { duration(t.query_p99_ns) } else { "—".to_owned() },
                rate(t.checks_per_sec),
                r.allocs_per_check
            );
        }
        let overheads: Vec<String> =
            rows.iter().filter_map(|r| r.timing).map(|t| format!("{:.0}", t.overhead_ns)).collect();
        println!(
            "\nTimer overhead subtracted from each sample (ns, per run): {}. Samples per run: {}.",
            overheads.join(", "),
            rows.iter().filter_map(|r| r.timing).map(|t| t.samples.to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    if disagreements > 0 {
        println!("\n{disagreements} disagreement(s) or error(s): see above.");
        return ExitCode::from(1);
    }
    println!("\nAll engines agree with the reference on every query.");
    ExitCode::SUCCESS
}
