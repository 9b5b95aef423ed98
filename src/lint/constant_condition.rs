//! W0005 `constant-condition`: a condition, or part of one, that does not depend on the
//! request.

use super::{Context, warning};
use crate::compile::expr::Cidr;
use crate::diagnostic::{CodeInfo, Diagnostic};
use crate::syntax::ast::{CmpOp, Expr, ExprKind, Root};
use crate::syntax::expr_to_string;

/// ## What it finds
/// A condition that is always true or always false, or a part of one (other than a bare
/// `true` or `false`) that is: comparisons of literals (`1 < 2`, `"a" in ["a", "b"]`),
/// `x || true`, `x && false`, `!true`, a path compared with itself (`resource.owner ==
/// resource.owner`), `has(principal.id)`, and functions of literals (`len("abc") == 3`).
///
/// ## Why it matters
/// A constant condition is almost always a typo: the author meant to compare with
/// another attribute (`resource.owner == principal.id`), or left a debugging `|| true`
/// behind, and the rule applies to every request, or to none.
///
/// ## Example
/// ```text
/// role member {
///     grant mail:delete when resource.owner == resource.owner   # warning[W0005]: condition is always true
/// }
/// ```
///
/// "Always" means whenever the condition can be evaluated: `context.x || true` still
/// fails when `context.x` is missing.
pub(super) const LINT: CodeInfo = CodeInfo {
    code: "W0005",
    name: "constant-condition",
    summary: "a condition, or part of one, that is always true or always false",
    help: "write the condition meant, or remove it",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for site in cx.sites() {
        let mut found = Vec::new();
        constants(site.expr, true, &mut found);
        for (e, value) in found {
            let message = if std::ptr::eq(e, site.expr) {
                format!("condition is always {value}")
            } else {
                format!("`{}` is always {value}", shorten(&expr_to_string(e)))
            };
            let help = match &e.kind {
                ExprKind::Cmp { lhs, rhs, .. } if lhs == rhs => {
                    format!("both sides are `{}`: compare with the value meant", shorten(&expr_to_string(lhs)))
                }
                _ => "it does not depend on the request: write the condition meant, or remove it".to_owned(),
            };
            out.push(warning(&LINT, e.span, message, help));
        }
    }
}

/// The largest constant boolean parts of a condition: the whole of it when it is
/// constant, else the parts that are and are not bare literals.
fn constants<'e>(e: &'e Expr, root: bool, found: &mut Vec<(&'e Expr, bool)>) {
    if let Some(value) = fold_bool(e)
        && (root || !is_literal(e))
    {
        found.push((e, value));
        return;
    }
    match &e.kind {
        ExprKind::Str(_) | ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::Path { .. } => {}
        ExprKind::List(items) | ExprKind::Call { args: items, .. } => {
            items.iter().for_each(|i| constants(i, false, found));
        }
        ExprKind::Not(inner) => constants(inner, false, found),
        ExprKind::And(l, r) | ExprKind::Or(l, r) | ExprKind::Cmp { lhs: l, rhs: r, .. } => {
            constants(l, false, found);
            constants(r, false, found);
        }
    }
}

fn is_literal(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Str(_) | ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::List(_))
}

fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!("{}...", text.chars().take(MAX).collect::<String>())
    }
}

/// A value known without a request.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
}

/// The value of a boolean expression, when it is the same for every request that it can
/// be evaluated for.
pub(super) fn fold_bool(e: &Expr) -> Option<bool> {
    match fold(e)? {
        Value::Bool(b) => Some(b),
        _ => None,
    }
}

fn fold(e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Str(s) => Some(Value::Str(s.clone())),
        ExprKind::Int(n) => Some(Value::Int(*n)),
        ExprKind::Bool(b) => Some(Value::Bool(*b)),
        ExprKind::List(items) => items.iter().map(fold).collect::<Option<Vec<_>>>().map(Value::List),
        ExprKind::Path { .. } => None,
        ExprKind::Not(inner) => fold_bool(inner).map(|b| Value::Bool(!b)),
        // `x && false` is false whatever `x` is (when `x` can be evaluated at all).
        ExprKind::And(l, r) => match (fold_bool(l), fold_bool(r)) {
            (Some(false), _) | (_, Some(false)) => Some(Value::Bool(false)),
            (Some(true), Some(true)) => Some(Value::Bool(true)),
            _ => None,
        },
        ExprKind::Or(l, r) => match (fold_bool(l), fold_bool(r)) {
            (Some(true), _) | (_, Some(true)) => Some(Value::Bool(true)),
            (Some(false), Some(false)) => Some(Value::Bool(false)),
            _ => None,
        },
        ExprKind::Call { func, args } => call(&func.name, args),
        ExprKind::Cmp { op, lhs, rhs } => compare(*op, lhs, rhs),
    }
}

fn call(func: &str, args: &[Expr]) -> Option<Value> {
    match (func, args) {
        ("has", [arg]) => match &arg.kind {
            // These always exist (the compiler makes them `true` too).
            ExprKind::Path { root, fields } => match (root, fields.as_slice()) {
                (Root::Principal, [f]) if f.name == "id" || f.name == "roles" => Some(Value::Bool(true)),
                (Root::Resource, [f]) if f.name == "id" || f.name == "kind" => Some(Value::Bool(true)),
                _ => None,
            },
            _ => None,
        },
        ("len", [arg]) => match fold(arg)? {
            Value::Str(s) => i64::try_from(s.chars().count()).ok().map(Value::Int),
            Value::List(items) => i64::try_from(items.len()).ok().map(Value::Int),
            _ => None,
        },
        ("starts_with" | "ends_with" | "matches", [a, b]) => match (fold(a)?, fold(b)?) {
            (Value::Str(a), Value::Str(b)) => Some(Value::Bool(match func {
                "starts_with" => a.starts_with(&b),
                "ends_with" => a.ends_with(&b),
                _ => crate::glob::glob_match(&b, &a),
            })),
            _ => None,
        },
        _ => None,
    }
}

fn compare(op: CmpOp, lhs: &Expr, rhs: &Expr) -> Option<Value> {
    // `"10.1.2.3" in cidr("10.0.0.0/8")`
    if let ExprKind::Call { func, args } = &rhs.kind
        && func.name == "cidr"
    {
        let (Some(Value::Str(ip)), [Expr { kind: ExprKind::Str(net), .. }]) = (fold(lhs), args.as_slice()) else {
            return None;
        };
        let (ip, net) = (ip.parse().ok()?, Cidr::parse(net).ok()?);
        return Some(Value::Bool(net.contains(ip)));
    }
    match (fold(lhs), fold(rhs)) {
        (Some(l), Some(r)) => {
            let b = match (op, &l, &r) {
                (CmpOp::Eq, ..) => same_type(&l, &r).then(|| l == r)?,
                (CmpOp::Ne, ..) => same_type(&l, &r).then(|| l != r)?,
                (CmpOp::Lt, Value::Int(a), Value::Int(b)) => a < b,
                (CmpOp::Le, Value::Int(a), Value::Int(b)) => a <= b,
                (CmpOp::Gt, Value::Int(a), Value::Int(b)) => a > b,
                (CmpOp::Ge, Value::Int(a), Value::Int(b)) => a >= b,
                (CmpOp::In, x, Value::List(items)) => items.iter().any(|i| same_type(i, x) && i == x),
                _ => return None,
            };
            Some(Value::Bool(b))
        }
        // The same path or call on both sides: the same value (when there is one).
        _ if lhs == rhs => match op {
            CmpOp::Eq | CmpOp::Le | CmpOp::Ge => Some(Value::Bool(true)),
            CmpOp::Ne | CmpOp::Lt | CmpOp::Gt => Some(Value::Bool(false)),
            CmpOp::In => None,
        },
        _ => None,
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;

    /// The constant parts of a condition, printed, with their values.
    fn constant_parts(condition: &str) -> Vec<(String, bool)> {
        let mut sources = Sources::new();
        let id = sources.add("t.policy", format!("role r {{ grant a:b when {condition} }}"));
        let mut errors = Vec::new();
        let file = crate::syntax::parse(&sources, id, &crate::Limits::default(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let crate::syntax::ast::Item::Role(role) = &file.items[0] else { panic!("not a role") };
        let expr = role.grants[0].when.as_ref().expect("a condition");
        let mut found = Vec::new();
        constants(expr, true, &mut found);
        found.into_iter().map(|(e, v)| (expr_to_string(e), v)).collect()
    }

    fn parts(list: &[(&str, bool)]) -> Vec<(String, bool)> {
        list.iter().map(|(s, b)| ((*s).to_owned(), *b)).collect()
    }

    #[test]
    fn constant_conditions_are_found() {
        assert_eq!(constant_parts("true"), parts(&[("true", true)]));
        assert_eq!(constant_parts("context.a || true"), parts(&[("context.a || true", true)]));
        assert_eq!(constant_parts("context.a && !true"), parts(&[("context.a && !true", false)]));
        assert_eq!(constant_parts("context.a && 1 < 2"), parts(&[("1 < 2", true)]));
        assert_eq!(constant_parts("context.a == context.a"), parts(&[("context.a == context.a", true)]));
        assert_eq!(constant_parts("context.a && has(principal.id)"), parts(&[("has(principal.id)", true)]));
        assert_eq!(constant_parts("\"b\" in [\"a\", \"b\"]"), parts(&[("\"b\" in [\"a\", \"b\"]", true)]));
        assert_eq!(constant_parts("len(\"abc\") != 3"), parts(&[("len(\"abc\") != 3", false)]));
        assert_eq!(
            constant_parts("\"10.1.2.3\" in cidr(\"10.0.0.0/8\")"),
            parts(&[("\"10.1.2.3\" in cidr(\"10.0.0.0/8\")", true)])
        );
        assert_eq!(
            constant_parts("matches(\"shared-1\", \"shared-*\")"),
            parts(&[("matches(\"shared-1\", \"shared-*\")", true)])
        );
    }

    #[test]
    fn conditions_that_read_the_request_are_not_constant() {
        for condition in [
            "context.a && true",
            "resource.owner == principal.id",
            "context.a in [1, 2]",
            "has(context.a)",
            "context.a != context.b",
            "\"x\" in principal.roles",
            "context.ip in cidr(\"10.0.0.0/8\")",
        ] {
            assert_eq!(constant_parts(condition), [], "{condition}");
        }
    }
}
