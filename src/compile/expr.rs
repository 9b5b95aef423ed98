//! Conditions: type-checked at compile time and lowered to a compact tree with every
//! name resolved, so evaluation compares integers and borrowed strings only.

use super::table::{KindId, NameIndex, RoleId};
use crate::diagnostic::{Diagnostic, ErrorKind, NameKind, suggest};
use crate::syntax::ast::{AttrType, CmpOp, Expr, ExprKind, Root};
use std::net::IpAddr;

/// A literal value in a compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Bool(bool),
    Int(i64),
    Str(Box<str>),
    Ip(IpAddr),
    List(Box<[Lit]>),
}

/// An attribute path read by a condition (an index into the snapshot's table of paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrRef(pub(crate) u32);

/// `principal.a.b`, `resource.owner`, `context.ip`: a root and the names after it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AttrPath {
    pub(crate) root: Root,
    pub(crate) keys: Box<[Box<str>]>,
    /// The path as written, for messages.
    pub(crate) text: Box<str>,
}

/// An ordering comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An IP network, `cidr("10.0.0.0/8")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr/prefix` (or a bare address, a network of one).
    pub(crate) fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| format!("`{addr}` is not an IP address"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                format!("`{p}` is not a prefix length for an IPv{} network (0 to {max})", if max == 32 { 4 } else { 6 })
            })?,
        };
        let cidr = Cidr { net, prefix };
        if cidr.masked() != net {
            return Err(format!("`{s}` has bits set after the prefix; the network is `{}/{prefix}`", cidr.masked()));
        }
        // An IPv4-mapped IPv6 network is the IPv4 network (addresses are compared that way).
        if let IpAddr::V6(v6) = net
            && let Some(v4) = v6.to_ipv4_mapped()
            && prefix >= 96
        {
            return Ok(Cidr { net: IpAddr::V4(v4), prefix: prefix - 96 });
        }
        Ok(cidr)
    }

    fn masked(&self) -> IpAddr {
        match self.net {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }

    /// Whether `ip` is in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Lit(Lit),
    PrincipalId,
    ResourceId,
    ResourceKind,
    Attr(AttrRef),
    Has(AttrRef),
    /// `"name" in principal.roles` with a declared role name.
    HasRole(RoleId),
    /// `x in principal.roles` with a computed name.
    InRoles(Box<Cond>),
    /// `len(principal.roles)`: the number of effective roles.
    RoleCount,
    /// A string read as an IP address, for comparing with an `ip` attribute.
    AsIp(Box<Cond>),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Cmp(Cmp, Box<Cond>, Box<Cond>),
    In(Box<Cond>, Box<Cond>),
    InCidr(Box<Cond>, Cidr),
    StartsWith(Box<Cond>, Box<Cond>),
    EndsWith(Box<Cond>, Box<Cond>),
    Matches(Box<Cond>, Box<Cond>),
    Len(Box<Cond>),
}

/// A static type; `Any` is a value whose type is only known at request time.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Str,
    Int,
    Bool,
    Ip,
    List(Box<Ty>),
    Any,
    /// `principal.roles`: only usable with `in` and `len`.
    Roles,
}

impl Ty {
    fn of(t: &AttrType) -> Ty {
        match t {
            AttrType::String => Ty::Str,
            AttrType::Int => Ty::Int,
            AttrType::Bool => Ty::Bool,
            AttrType::Ip => Ty::Ip,
            AttrType::List(t) => Ty::List(Box::new(Ty::of(t))),
        }
    }

    fn name(&self) -> String {
        match self {
            Ty::Str => "string".into(),
            Ty::Int => "int".into(),
            Ty::Bool => "bool".into(),
            Ty::Ip => "ip".into(),
            Ty::List(t) => format!("list<{}>", t.name()),
            Ty::Any => "any".into(),
            Ty::Roles => "the role set `principal.roles`".into(),
        }
    }

    /// Whether values of the two types can be compared for equality.
    fn fits(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Roles, _) | (_, Ty::Roles) => false,
            (Ty::Any, _) | (_, Ty::Any) => true,
            (Ty::Str | Ty::Ip, Ty::Str | Ty::Ip) => true,
            (Ty::List(a), Ty::List(b)) => a.fits(b),
            (a, b) => a == b,
        }
    }
}

/// What a condition may refer to.
pub(crate) struct Scope<'a> {
    /// The declared attributes of each resource kind.
    pub(crate) kind_attrs: &'a [Vec<(Box<str>, AttrType)>],
    /// The kinds the rule covers (resource attributes are typed from these).
    pub(crate) kinds: &'a [KindId],
    /// Declared roles.
    pub(crate) role_ids: &'a NameIndex<RoleId>,
}

/// Lowers conditions, interning attribute paths; collects every error.
#[derive(Default)]
pub(crate) struct Lowerer {
    pub(crate) paths: Vec<AttrPath>,
    pub(crate) errors: Vec<Diagnostic>,
}

const FUNCTIONS: [&str; 6] = ["has", "len", "starts_with", "ends_with", "matches", "cidr"];

impl Lowerer {
    /// Lowers a whole condition, which must be boolean.
    pub(crate) fn condition(&mut self, e: &Expr, scope: &Scope<'_>) -> Option<Cond> {
        let (cond, ty) = self.lower(e, scope)?;
        self.expect_bool(&ty, e, "a condition")?;
        Some(cond)
    }

    fn type_error(&mut self, message: String, e: &Expr) -> Option<(Cond, Ty)> {
        self.errors.push(Diagnostic::error(ErrorKind::Type { message }, e.span));
        None
    }

    fn invalid(&mut self, message: String, help: &str, e: &Expr) -> Option<(Cond, Ty)> {
        let help = (!help.is_empty()).then(|| help.to_owned());
        self.errors.push(Diagnostic::error(ErrorKind::Invalid { message, help }, e.span));
        None
    }

    fn expect_bool(&mut self, ty: &Ty, e: &Expr, what: &str) -> Option<()> {
        if matches!(ty, Ty::Bool | Ty::Any) {
            return Some(());
        }
        self.type_error(format!("{what} must be a bool, found {}", ty.name()), e).map(|_| ())
    }

    fn intern(&mut self, root: Root, keys: Vec<Box<str>>) -> AttrRef {
        let text = std::iter::once(root.as_str()).chain(keys.iter().map(|k| &**k)).collect::<Vec<_>>().join(".");
        let found = self.paths.iter().position(|p| *p.text == *text);
        let index = found.unwrap_or_else(|| {
            self.paths.push(AttrPath { root, keys: keys.into(), text: text.into() });
            self.paths.len() - 1
        });
        AttrRef(u32::try_from(index).unwrap_or(u32::MAX))
    }

    fn lower(&mut self, e: &Expr, scope: &Scope<'_>) -> Option<(Cond, Ty)> {
        match &e.kind {
            ExprKind::Str(s) => Some((Cond::Lit(Lit::Str(s.as_str().into())), Ty::Str)),
            ExprKind::Int(n) => Some((Cond::Lit(Lit::Int(*n)), Ty::Int)),
            ExprKind::Bool(b) => Some((Cond::Lit(Lit::Bool(*b)), Ty::Bool)),
            ExprKind::List(items) => {
                let mut lits = Vec::with_capacity(items.len());
                let mut elem = Ty::Any;
                for item in items {
                    let (Cond::Lit(lit), ty @ (Ty::Str | Ty::Int | Ty::Bool | Ty::List(_))) =
                        self.lower(item, scope)?
                    else {
                        return self.invalid(
                            "list items must be literals".into(),
                            "compare attributes one by one with `==` and `||`",
                            item,
                        );
                    };
                    if elem == Ty::Any {
                        elem = ty;
                    } else if !elem.fits(&ty) {
                        return self.type_error(format!("a list mixes {} and {}", elem.name(), ty.name()), item);
                    }
                    lits.push(lit);
                }
                Some((Cond::Lit(Lit::List(lits.into())), Ty::List(Box::new(elem))))
            }
            ExprKind::Path { root, fields } => self.path(e, *root, fields, scope),
            ExprKind::Call { func, args } => self.call(e, &func.name, args, scope),
            ExprKind::Not(inner) => {
                let (c, ty) = self.lower(inner, scope)?;
                self.expect_bool(&ty, inner, "the operand of `!`")?;
                Some((Cond::Not(Box::new(c)), Ty::Bool))
            }
            ExprKind::And(l, r) | ExprKind::Or(l, r) => {
                let op = if matches!(e.kind, ExprKind::And(..)) { "&&" } else { "||" };
                let left = self.lower(l, scope);
                let right = self.lower(r, scope);
                let ((lc, lt), (rc, rt)) = (left?, right?);
                self.expect_bool(&lt, l, &format!("each operand of `{op}`"))?;
                self.expect_bool(&rt, r, &format!("each operand of `{op}`"))?;
                let (lc, rc) = (Box::new(lc), Box::new(rc));
                Some((if op == "&&" { Cond::And(lc, rc) } else { Cond::Or(lc, rc) }, Ty::Bool))
            }
            ExprKind::Cmp { op: CmpOp::In, lhs, rhs } => self.membership(lhs, rhs, scope),
            ExprKind::Cmp { op, lhs, rhs } => {
                let left = self.lower(lhs, scope);
                let right = self.lower(rhs, scope);
                let ((lc, lt), (rc, rt)) = (left?, right?);
                let cmp = match op {
                    CmpOp::Eq => Cmp::Eq,
                    CmpOp::Ne => Cmp::Ne,
                    CmpOp::Lt => Cmp::Lt,
                    CmpOp::Le => Cmp::Le,
                    CmpOp::Gt => Cmp::Gt,
                    CmpOp::Ge | CmpOp::In => Cmp::Ge,
                };
                if matches!(cmp, Cmp::Eq | Cmp::Ne) {
                    if !lt.fits(&rt) {
                        let message =
                            format!("cannot compare {} with {} using `{}`", lt.name(), rt.name(), op.as_str());
                        return self.type_error(message, e);
                    }
                    if lt == Ty::Ip || rt == Ty::Ip {
                        // Addresses compare as addresses, not as text (`::1` is `0:0:0:0:0:0:0:1`).
                        let (lc, rc) = (self.as_ip(lc, lhs)?, self.as_ip(rc, rhs)?);
                        return Some((Cond::Cmp(cmp, Box::new(lc), Box::new(rc)), Ty::Bool));
                    }
                    let ip_list = Ty::List(Box::new(Ty::Ip));
                    if lt == ip_list || rt == ip_list {
                        // A literal list compared with a `list<ip>` must hold addresses.
                        let (lc, rc) = (self.ip_list(lc, lhs)?, self.ip_list(rc, rhs)?);
                        return Some((Cond::Cmp(cmp, Box::new(lc), Box::new(rc)), Ty::Bool));
                    }
                } else {
                    for (ty, side) in [(&lt, lhs), (&rt, rhs)] {
                        if !matches!(ty, Ty::Int | Ty::Any) {
                            let message = format!("`{}` compares integers, found {}", op.as_str(), ty.name());
                            return self.type_error(message, side);
                        }
                    }
                }
                Some((Cond::Cmp(cmp, Box::new(lc), Box::new(rc)), Ty::Bool))
            }
        }
    }

    /// Reads an operand as an IP address: a string literal is parsed now, anything else
    /// when the request is evaluated.
    fn as_ip(&mut self, c: Cond, e: &Expr) -> Option<Cond> {
        match c {
            Cond::Lit(Lit::Str(s)) => match s.parse::<IpAddr>() {
                Ok(ip) => Some(Cond::Lit(Lit::Ip(ip))),
                Err(_) => {
                    let message = format!("`{s}` is not an IP address");
                    self.invalid(message, "write an IPv4 or IPv6 address, such as `10.0.0.1`", e).map(|(c, _)| c)
                }
            },
            other => Some(Cond::AsIp(Box::new(other))),
        }
    }

    /// A literal list's string items read as IP addresses; anything else unchanged.
    fn ip_list(&mut self, c: Cond, e: &Expr) -> Option<Cond> {
        let Cond::Lit(Lit::List(items)) = c else { return Some(c) };
        let mut ips = Vec::with_capacity(items.len());
        for item in items.into_vec() {
            match self.as_ip(Cond::Lit(item), e)? {
                Cond::Lit(ip) => ips.push(ip),
                _ => return None,
            }
        }
        Some(Cond::Lit(Lit::List(ips.into())))
    }

    fn membership(&mut self, lhs: &Expr, rhs: &Expr, scope: &Scope<'_>) -> Option<(Cond, Ty)> {
        // `x in cidr("...")`
        if let ExprKind::Call { func, args } = &rhs.kind
            && func.name == "cidr"
        {
            let [arg] = args.as_slice() else {
                return self.invalid("`cidr` takes one argument".into(), "write `cidr(\"10.0.0.0/8\")`", rhs);
            };
            let ExprKind::Str(text) = &arg.kind else {
                return self.invalid("`cidr` takes a string literal".into(), "write `cidr(\"10.0.0.0/8\")`", arg);
            };
            let cidr = match Cidr::parse(text) {
                Ok(c) => c,
                Err(message) => return self.invalid(message, "write a network such as `10.0.0.0/8`", arg),
            };
            let (lc, lt) = self.lower(lhs, scope)?;
            if !matches!(lt, Ty::Ip | Ty::Str | Ty::Any) {
                return self.type_error(format!("only an IP address can be `in cidr(...)`, found {}", lt.name()), lhs);
            }
            return Some((Cond::InCidr(Box::new(lc), cidr), Ty::Bool));
        }
        let left = self.lower(lhs, scope);
        let right = self.lower(rhs, scope);
        let ((lc, lt), (rc, rt)) = (left?, right?);
        match rt {
            Ty::Roles => {
                if let Cond::Lit(Lit::Str(name)) = &lc {
                    return match scope.role_ids.get(name) {
                        Some(id) => Some((Cond::HasRole(*id), Ty::Bool)),
                        None => {
                            let suggestion = suggest(name, scope.role_ids.keys());
                            let kind = ErrorKind::Unknown {
                                kind: NameKind::Role,
                                name: name.to_string(),
                                suggestion,
                                scope: None,
                            };
                            self.errors.push(Diagnostic::error(kind, lhs.span));
                            None
                        }
                    };
                }
                if !matches!(lt, Ty::Str | Ty::Any) {
                    return self.type_error(format!("role names are strings, found {}", lt.name()), lhs);
                }
                Some((Cond::InRoles(Box::new(lc)), Ty::Bool))
            }
            Ty::List(elem) => {
                if !elem.fits(&lt) {
                    let message = format!("cannot look for {} in a list<{}>", lt.name(), elem.name());
                    return self.type_error(message, lhs);
                }
                if lt == Ty::Ip || *elem == Ty::Ip {
                    // Addresses are found as addresses: `::1` is in `["0:0:0:0:0:0:0:1"]`.
                    let lc = self.as_ip(lc, lhs)?;
                    let rc = self.ip_list(rc, rhs)?;
                    return Some((Cond::In(Box::new(lc), Box::new(rc)), Ty::Bool));
                }
                Some((Cond::In(Box::new(lc), Box::new(rc)), Ty::Bool))
            }
            Ty::Any => {
                if lt == Ty::Roles {
                    return self.type_error("`principal.roles` cannot be looked for in a list".into(), lhs);
                }
                Some((Cond::In(Box::new(lc), Box::new(rc)), Ty::Bool))
            }
            other => self.invalid(
                format!("`in` needs a list on its right, found {}", other.name()),
                "use a list, `cidr(\"...\")` or `principal.roles`",
                rhs,
            ),
        }
    }

    fn path(
        &mut self,
        e: &Expr,
        root: Root,
        fields: &[crate::syntax::ast::Ident],
        scope: &Scope<'_>,
    ) -> Option<(Cond, Ty)> {
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        match (root, names.as_slice()) {
            (_, []) => self.invalid(
                format!("`{}` needs a field", root.as_str()),
                "write a path such as `principal.id` or `resource.owner`",
                e,
            ),
            (Root::Principal, ["id"]) => Some((Cond::PrincipalId, Ty::Str)),
            (Root::Principal, ["roles"]) => Some((Cond::Lit(Lit::Bool(false)), Ty::Roles)),
            (Root::Resource, ["id"]) => Some((Cond::ResourceId, Ty::Str)),
            (Root::Resource, ["kind"]) => Some((Cond::ResourceKind, Ty::Str)),
            (Root::Principal, [special @ ("id" | "roles"), _, ..])
            | (Root::Resource, [special @ ("id" | "kind"), _, ..]) => self.invalid(
                format!("`{}.{special}` has no fields", root.as_str()),
                "attributes are reached directly, as in `resource.owner`",
                e,
            ),
            (Root::Resource, [first, rest @ ..]) => {
                let ty = self.resource_attr_type(first, scope);
                let ty = match (ty, rest) {
                    (ty, []) => ty,
                    (Ty::Any, _) => Ty::Any,
                    (ty, _) => {
                        let message = format!("`resource.{first}` is declared as {}; it has no fields", ty.name());
                        return self.type_error(message, e);
                    }
                };
                let keys = names.iter().map(|n| Box::<str>::from(*n)).collect();
                Some((Cond::Attr(self.intern(root, keys)), ty))
            }
            (_, _) => {
                let keys = names.iter().map(|n| Box::<str>::from(*n)).collect();
                Some((Cond::Attr(self.intern(root, keys)), Ty::Any))
            }
        }
    }

    /// The declared type of a resource attribute across the rule's kinds: known when every
    /// kind that declares it agrees, `Any` otherwise.
    fn resource_attr_type(&self, name: &str, scope: &Scope<'_>) -> Ty {
        let mut found: Option<Ty> = None;
        for kind in scope.kinds {
            let attrs = scope.kind_attrs.get(kind.index()).map(Vec::as_slice).unwrap_or(&[]);
            if let Some((_, t)) = attrs.iter().find(|(n, _)| &**n == name) {
                let t = Ty::of(t);
                match &found {
                    None => found = Some(t),
                    Some(f) if *f == t => {}
                    Some(_) => return Ty::Any,
                }
            }
        }
        found.unwrap_or(Ty::Any)
    }

    fn call(&mut self, e: &Expr, func: &str, args: &[Expr], scope: &Scope<'_>) -> Option<(Cond, Ty)> {
        let arity = match func {
            "has" | "len" | "cidr" => 1,
            "starts_with" | "ends_with" | "matches" => 2,
            _ => {
                let help = match suggest(func, FUNCTIONS) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the functions are {}", FUNCTIONS.map(|f| format!("`{f}`")).join(", ")),
                };
                return self.invalid(format!("unknown function `{func}`"), &help, e);
            }
        };
        if args.len() != arity {
            let s = if arity == 1 { "" } else { "s" };
            return self.invalid(format!("`{func}` takes {arity} argument{s}, found {}", args.len()), "", e);
        }
        match func {
            "cidr" => self.invalid(
                "`cidr(...)` can only appear on the right of `in`".into(),
                "write `context.ip in cidr(\"10.0.0.0/8\")`",
                e,
            ),
            "has" => match self.lower(&args[0], scope)? {
                (Cond::Attr(a), _) => Some((Cond::Has(a), Ty::Bool)),
                (Cond::PrincipalId | Cond::ResourceId | Cond::ResourceKind, _) | (_, Ty::Roles) => {
                    Some((Cond::Lit(Lit::Bool(true)), Ty::Bool))
                }
                _ => self.invalid(
                    "`has` takes an attribute path".into(),
                    "write `has(resource.owner)` or `has(context.mfa)`",
                    &args[0],
                ),
            },
            "len" => {
                let (c, ty) = self.lower(&args[0], scope)?;
                match ty {
                    Ty::Roles => Some((Cond::RoleCount, Ty::Int)),
                    Ty::Str | Ty::List(_) | Ty::Any => Some((Cond::Len(Box::new(c)), Ty::Int)),
                    other => {
                        self.type_error(format!("`len` takes a string or a list, found {}", other.name()), &args[0])
                    }
                }
            }
            _ => {
                let a = self.lower(&args[0], scope);
                let b = self.lower(&args[1], scope);
                let ((ac, at), (bc, bt)) = (a?, b?);
                for (ty, arg) in [(&at, &args[0]), (&bt, &args[1])] {
                    if !matches!(ty, Ty::Str | Ty::Any) {
                        return self.type_error(format!("`{func}` takes strings, found {}", ty.name()), arg);
                    }
                }
                let (ac, bc) = (Box::new(ac), Box::new(bc));
                let cond = match func {
                    "starts_with" => Cond::StartsWith(ac, bc),
                    "ends_with" => Cond::EndsWith(ac, bc),
                    _ => Cond::Matches(ac, bc),
                };
                Some((cond, Ty::Bool))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_contains_its_addresses_only() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.1.2.3")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.9.9.9")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("2001:db8::/32").unwrap().contains(ip("2001:db8::1")));
        assert!(!Cidr::parse("2001:db8::/32").unwrap().contains(ip("10.0.0.1")));
        assert!(Cidr::parse("192.168.1.7").unwrap().contains(ip("192.168.1.7")));
        let mapped = Cidr::parse("::ffff:10.9.0.0/112").unwrap();
        assert!(mapped.contains(ip("10.9.0.5")) && mapped.contains(ip("::ffff:10.9.0.5")));
        assert!(!mapped.contains(ip("10.8.0.5")));
    }

    #[test]
    fn malformed_networks_are_rejected_with_reasons() {
        assert!(Cidr::parse("10.0.0.0/33").unwrap_err().contains("prefix length"));
        assert!(Cidr::parse("nope/8").unwrap_err().contains("not an IP address"));
        assert!(Cidr::parse("10.1.0.0/8").unwrap_err().contains("`10.0.0.0/8`"));
    }
}
