//! Printing a syntax tree back as DSL or YAML text; parsing the output gives back an
//! equal tree.

use super::ast::*;
use super::dsl::quote;
use std::fmt::Write as _;

/// Prints a policy file in the DSL form.
pub fn to_dsl(file: &PolicyFile) -> String {
    let mut out = String::new();
    let mut previous: Option<&Item> = None;
    for item in &file.items {
        let same_kind = previous.is_some_and(|p| std::mem::discriminant(p) == std::mem::discriminant(item));
        let one_liner = matches!(item, Item::Group(_)) || matches!(item, Item::Resource(r) if r.attributes.is_empty());
        if previous.is_some() && !(same_kind && one_liner) {
            out.push('\n');
        }
        previous = Some(item);
        match item {
            Item::Resource(r) => {
                let actions = names(&r.actions);
                if r.attributes.is_empty() && r.actions.is_empty() {
                    let _ = writeln!(out, "resource {} {{}}", r.name.name);
                } else if r.attributes.is_empty() {
                    let _ = writeln!(out, "resource {} {{ actions: {actions} }}", r.name.name);
                } else {
                    let _ = writeln!(out, "resource {} {{", r.name.name);
                    if !r.actions.is_empty() {
                        let _ = writeln!(out, "    actions: {actions}");
                    }
                    let attrs: Vec<String> =
                        r.attributes.iter().map(|a| format!("{}: {}", a.name.name, type_name(&a.ty))).collect();
                    let _ = writeln!(out, "    attributes: {{ {} }}", attrs.join(", "));
                    out.push_str("}\n");
                }
            }
            Item::Group(g) => {
                let _ = writeln!(out, "group {} = {}", g.name.name, perm_refs(&g.items));
            }
            Item::Role(r) => {
                let admin = if r.admin { "admin " } else { "" };
                let _ = write!(out, "{admin}role {}", r.name.name);
                if !r.inherits.is_empty() {
                    let _ = write!(out, " inherits {}", names(&r.inherits));
                }
                if r.grants.is_empty() {
                    out.push('\n');
                    continue;
                }
                out.push_str(" {\n");
                for g in &r.grants {
                    let _ = write!(out, "    grant {}", perm_refs(&g.items));
                    if let Some(on) = &g.on {
                        let _ = write!(out, " on {}", quote(&on.value));
                    }
                    if let Some(when) = &g.when {
                        let _ = write!(out, " when {}", expr_to_string(when));
                    }
                    out.push('\n');
                }
                out.push_str("}\n");
            }
            Item::Policy(p) => out.push_str(&policy_to_dsl(p)),
        }
    }
    out
}

/// Prints one access policy in the DSL form (also its canonical text, used to tell
/// whether a policy changed between two snapshots).
pub fn policy_to_dsl(p: &PolicyDecl) -> String {
    let mut out = String::new();
    let effect = match p.effect {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
    };
    let _ = writeln!(out, "{effect} {} {{", quote(&p.id.value));
    let _ = writeln!(out, "    actions: {}", perm_refs(&p.actions));
    if !p.roles.is_empty() {
        let _ = writeln!(out, "    roles: {}", names(&p.roles));
    }
    if !p.principals.is_empty() {
        let _ = writeln!(out, "    principals: {}", strings(&p.principals));
    }
    if !p.resources.is_empty() {
        let _ = writeln!(out, "    resources: {}", strings(&p.resources));
    }
    if let Some(c) = &p.condition {
        let kw = match c.kind {
            ConditionKind::When => "when",
            ConditionKind::Unless => "unless",
        };
        let _ = writeln!(out, "    {kw}: {}", expr_to_string(&c.expr));
    }
    out.push_str("}\n");
    out
}

/// Prints a policy file in the YAML form.
pub fn to_yaml(file: &PolicyFile) -> String {
    let mut out = String::new();
    let section = |out: &mut String, title: &str, pick: &dyn Fn(&Item) -> bool| {
        let any = file.items.iter().any(pick);
        if any {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "{title}:");
        }
        any
    };
    if section(&mut out, "resources", &|i| matches!(i, Item::Resource(_))) {
        for item in &file.items {
            let Item::Resource(r) = item else { continue };
            let _ = writeln!(out, "  {}:", r.name.name);
            let _ = writeln!(out, "    actions: [{}]", names(&r.actions));
            if !r.attributes.is_empty() {
                let attrs: Vec<String> =
                    r.attributes.iter().map(|a| format!("{}: {}", a.name.name, yaml_str(&type_name(&a.ty)))).collect();
                let _ = writeln!(out, "    attributes: {{{}}}", attrs.join(", "));
            }
        }
    }
    if section(&mut out, "groups", &|i| matches!(i, Item::Group(_))) {
        for item in &file.items {
            let Item::Group(g) = item else { continue };
            let _ = writeln!(out, "  {}: [{}]", g.name.name, yaml_perm_refs(&g.items));
        }
    }
    if section(&mut out, "roles", &|i| matches!(i, Item::Role(_))) {
        for item in &file.items {
            let Item::Role(r) = item else { continue };
            if r.inherits.is_empty() && r.grants.is_empty() {
                let admin = if r.admin { "administrative: true" } else { "" };
                let _ = writeln!(out, "  {}: {{{admin}}}", r.name.name);
                continue;
            }
            let _ = writeln!(out, "  {}:", r.name.name);
            if r.admin {
                out.push_str("    administrative: true\n");
            }
            if !r.inherits.is_empty() {
                let _ = writeln!(out, "    inherits: [{}]", names(&r.inherits));
            }
            if !r.grants.is_empty() {
                out.push_str("    grants:\n");
            }
            for g in &r.grants {
                match (g.items.as_slice(), &g.on, &g.when) {
                    ([one], None, None) => {
                        let _ = writeln!(out, "      - {}", yaml_str(&perm_ref(one)));
                    }
                    (items, on, when) => {
                        let mut fields = vec![match items {
                            [one] => format!("permission: {}", yaml_str(&perm_ref(one))),
                            many => format!("permissions: [{}]", yaml_perm_refs(many)),
                        }];
                        if let Some(on) = on {
                            fields.push(format!("on: {}", yaml_str(&on.value)));
                        }
                        if let Some(when) = when {
                            fields.push(format!("when: {}", yaml_str(&expr_to_string(when))));
                        }
                        let _ = writeln!(out, "      - {{{}}}", fields.join(", "));
                    }
                }
            }
        }
    }
    if section(&mut out, "policies", &|i| matches!(i, Item::Policy(_))) {
        for item in &file.items {
            let Item::Policy(p) = item else { continue };
            let _ = writeln!(out, "  - id: {}", yaml_str(&p.id.value));
            let effect = match p.effect {
                Effect::Allow => "allow",
                Effect::Deny => "deny",
            };
            let _ = writeln!(out, "    effect: {effect}");
            let _ = writeln!(out, "    actions: [{}]", yaml_perm_refs(&p.actions));
            if !p.roles.is_empty() {
                let _ = writeln!(out, "    roles: [{}]", names(&p.roles));
            }
            for (key, globs) in [("principals", &p.principals), ("resources", &p.resources)] {
                if !globs.is_empty() {
                    let list: Vec<String> = globs.iter().map(|g| yaml_str(&g.value)).collect();
                    let _ = writeln!(out, "    {key}: [{}]", list.join(", "));
                }
            }
            if let Some(c) = &p.condition {
                let kw = match c.kind {
                    ConditionKind::When => "when",
                    ConditionKind::Unless => "unless",
                };
                let _ = writeln!(out, "    {kw}: {}", yaml_str(&expr_to_string(&c.expr)));
            }
        }
    }
    out
}

/// A YAML double-quoted scalar (JSON string syntax is a subset of it).
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

fn names(ids: &[Ident]) -> String {
    ids.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn strings(s: &[StrLit]) -> String {
    s.iter().map(|s| quote(&s.value)).collect::<Vec<_>>().join(", ")
}

fn perm_refs(items: &[PermRef]) -> String {
    items.iter().map(perm_ref).collect::<Vec<_>>().join(", ")
}

fn yaml_perm_refs(items: &[PermRef]) -> String {
    items.iter().map(|p| yaml_str(&perm_ref(p))).collect::<Vec<_>>().join(", ")
}

/// `kind:action` with `*` for a wildcard part, or the group's name.
pub fn perm_ref(p: &PermRef) -> String {
    let part = |n: &NamePattern| match n {
        NamePattern::Any => "*".to_owned(),
        NamePattern::Name(s) => s.clone(),
    };
    match p {
        PermRef::Pattern { kind, action, .. } => format!("{}:{}", part(kind), part(action)),
        PermRef::Group(g) => g.name.clone(),
    }
}

/// The written name of an attribute type.
pub fn type_name(t: &AttrType) -> String {
    match t {
        AttrType::String => "string".into(),
        AttrType::Int => "int".into(),
        AttrType::Bool => "bool".into(),
        AttrType::Ip => "ip".into(),
        AttrType::List(t) => format!("list<{}>", type_name(t)),
    }
}

/// Binding strength, loosest first; an operand binding looser than its context needs parentheses.
fn precedence(e: &Expr) -> u8 {
    match e.kind {
        ExprKind::Or(..) => 1,
        ExprKind::And(..) => 2,
        ExprKind::Cmp { .. } => 3,
        ExprKind::Not(_) => 4,
        _ => 5,
    }
}

/// Prints an expression with the parentheses its tree shape needs, and no others.
pub fn expr_to_string(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

/// For an expression whose root is `||` or `&&`: the operator and the chain's operands
/// printed as they would be inside the whole (so joining them with the operator prints the
/// same tree). `None` for any other expression.
pub(crate) fn operator_chain(e: &Expr) -> Option<(&'static str, Vec<String>)> {
    let (op, is_or) = match e.kind {
        ExprKind::Or(..) => ("||", true),
        ExprKind::And(..) => ("&&", false),
        _ => return None,
    };
    // The chain is left-nested: walk down the left spine, keeping each right operand.
    let mut rights = Vec::new();
    let mut at = e;
    loop {
        match &at.kind {
            ExprKind::Or(l, r) if is_or => {
                rights.push(r);
                at = l;
            }
            ExprKind::And(l, r) if !is_or => {
                rights.push(r);
                at = l;
            }
            _ => break,
        }
    }
    let (left_min, right_min) = if is_or { (1, 2) } else { (2, 3) };
    let mut parts = Vec::with_capacity(rights.len() + 1);
    let mut first = String::new();
    write_operand(&mut first, at, left_min);
    parts.push(first);
    for r in rights.into_iter().rev() {
        let mut s = String::new();
        write_operand(&mut s, r, right_min);
        parts.push(s);
    }
    Some((op, parts))
}

fn write_operand(out: &mut String, e: &Expr, min: u8) {
    if precedence(e) < min {
        out.push('(');
        write_expr(out, e);
        out.push(')');
    } else {
        write_expr(out, e);
    }
}

fn write_expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Str(s) => out.push_str(&quote(s)),
        ExprKind::Int(n) => {
            let _ = write!(out, "{n}");
        }
        ExprKind::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        ExprKind::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, item);
            }
            out.push(']');
        }
        ExprKind::Path { root, fields } => {
            out.push_str(root.as_str());
            for f in fields {
                out.push('.');
                out.push_str(&f.name);
            }
        }
        ExprKind::Call { func, args } => {
            out.push_str(&func.name);
            out.push('(');
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, arg);
            }
            out.push(')');
        }
        ExprKind::Not(inner) => {
            out.push('!');
            write_operand(out, inner, 4);
        }
        ExprKind::And(l, r) => {
            write_operand(out, l, 2);
            out.push_str(" && ");
            write_operand(out, r, 3);
        }
        ExprKind::Or(l, r) => {
            write_operand(out, l, 1);
            out.push_str(" || ");
            write_operand(out, r, 2);
        }
        ExprKind::Cmp { op, lhs, rhs } => {
            write_operand(out, lhs, 4);
            let _ = write!(out, " {} ", op.as_str());
            write_operand(out, rhs, 4);
        }
    }
}
