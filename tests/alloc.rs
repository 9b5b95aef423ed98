//! The check hot path allocates nothing: a plain role check, a check whose conditions
//! compare attributes, a deny and a default deny, on requests built from borrowed data.
//!
//! A separate test binary, because the counting allocator replaces the global one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rampart::{PolicySet, Principal, Request, Resource, Snapshot, Value, attr};

fn snapshot() -> Snapshot {
    let mut set = PolicySet::new();
    set.add_source(
        "alloc.policy",
        r#"
        resource mail {
            actions: read, delete, export
            attributes: { owner: string, classification: string, size: int, labels: list<string> }
        }
        role viewer { grant mail:read }
        role member inherits viewer {
            grant mail:delete when resource.owner == principal.id && resource.size < 100
            grant mail:export when "ok" in resource.labels && context.ip in cidr("10.0.0.0/8")
        }
        deny "pii-requires-mfa" {
            actions: mail:*
            when: resource.classification == "pii" && !context.mfa
        }
        "#,
    );
    set.compile().unwrap()
}

/// Heap allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> u64 {
    allocation_counter::measure(f).count_total
}

#[test]
fn checks_do_not_allocate() {
    let snapshot = snapshot();
    let roles = ["member"];
    let labels = [Value::from("ok")];
    let resource_attrs =
        [attr("owner", "alice"), attr("classification", "internal"), attr("size", 12), attr("labels", &labels[..])];
    let pii = [attr("owner", "alice"), attr("classification", "pii"), attr("size", 12)];
    let context = [attr("mfa", false), attr("ip", "10.1.2.3")];
    let principal = || Principal::new("alice").roles(&roles);

    let plain = Request::new(principal(), "read", Resource::new("mail", "m1").attrs(&resource_attrs));
    let conditional =
        Request::new(principal(), "delete", Resource::new("mail", "m1").attrs(&resource_attrs)).context(&context);
    let membership =
        Request::new(principal(), "export", Resource::new("mail", "m1").attrs(&resource_attrs)).context(&context);
    let denied = Request::new(principal(), "read", Resource::new("mail", "m2").attrs(&pii)).context(&context);
    let nobody = Request::new(Principal::new("eve"), "delete", Resource::new("mail", "m1").attrs(&resource_attrs));

    for (name, request, allowed) in [
        ("plain role check", &plain, true),
        ("attribute comparisons", &conditional, true),
        ("list membership and a network", &membership, true),
        ("a deny policy", &denied, false),
        ("a default deny", &nobody, false),
    ] {
        // The measured region holds only the check; the decision is dropped inside it.
        let mut decided = None;
        let count = allocations(|| decided = Some(snapshot.check(request).is_allowed()));
        assert_eq!(decided, Some(allowed), "{name}");
        assert_eq!(count, 0, "{name} allocated {count} times");
    }

    // The counter works: a request naming an unknown role records it, which allocates.
    let ghost_roles = ["ghost"];
    let ghost = Request::new(Principal::new("g").roles(&ghost_roles), "read", Resource::new("mail", "m1"));
    assert!(allocations(|| drop(snapshot.check(&ghost))) > 0);
}
