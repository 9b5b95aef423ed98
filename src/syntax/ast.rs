//! The authoring syntax tree shared by the DSL and YAML forms.
//!
//! Every node carries its [`Span`]; spans compare equal to each other, so two trees
//! compare equal when they mean the same thing, whichever form or file they came from.

use crate::source::{SourceId, Span};

/// One parsed policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFile {
    /// The source the file was parsed from.
    pub source: SourceId,
    /// Declarations in source order.
    pub items: Vec<Item>,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `resource mail { ... }`
    Resource(ResourceDecl),
    /// `group mail_basic = ...`
    Group(GroupDecl),
    /// `[admin] role member inherits viewer { ... }`
    Role(RoleDecl),
    /// `allow "id" { ... }` or `deny "id" { ... }`
    Policy(PolicyDecl),
}

/// A name as written, with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A string literal (a policy id or a glob), with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    /// The unescaped value.
    pub value: String,
    /// Where it is written.
    pub span: Span,
}

/// A resource kind: its actions and typed attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDecl {
    /// The kind's name.
    pub name: Ident,
    /// Declared actions.
    pub actions: Vec<Ident>,
    /// Declared attributes.
    pub attributes: Vec<AttrDecl>,
    /// The whole declaration (in YAML, its name).
    pub span: Span,
}

/// `name: type` in a resource's attribute list.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrDecl {
    /// The attribute's name.
    pub name: Ident,
    /// Its declared type.
    pub ty: AttrType,
    /// Where the type is written.
    pub ty_span: Span,
}

/// A declared attribute type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttrType {
    /// `string`
    String,
    /// `int` (64-bit signed)
    Int,
    /// `bool`
    Bool,
    /// `ip`: an IPv4 or IPv6 address, given as a string in requests
    Ip,
    /// `list<T>`
    List(Box<AttrType>),
}

/// One part of a permission pattern: a name, or `*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NamePattern {
    /// `*`: any name.
    Any,
    /// One name.
    Name(String),
}

/// A reference to permissions: `kind:action` (either part may be `*`) or a group name.
#[derive(Debug, Clone, PartialEq)]
pub enum PermRef {
    /// `mail:read`, `mail:*`, `*:read`, `*:*`
    Pattern {
        /// The resource kind part.
        kind: NamePattern,
        /// The action part.
        action: NamePattern,
        /// Where the pattern is written.
        span: Span,
    },
    /// The name of a permission group.
    Group(Ident),
}

impl PermRef {
    /// Where the reference is written.
    pub fn span(&self) -> Span {
        match self {
            PermRef::Pattern { span, .. } => *span,
            PermRef::Group(id) => id.span,
        }
    }
}

/// A named set of permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDecl {
    /// The group's name.
    pub name: Ident,
    /// Its permissions and patterns.
    pub items: Vec<PermRef>,
    /// The whole declaration (in YAML, its name).
    pub span: Span,
}

/// A role: what it inherits and what it grants.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDecl {
    /// The role's name.
    pub name: Ident,
    /// Marked administrative (`admin role` in the DSL, `administrative: true` in YAML):
    /// meant to hold every permission. It changes no decision; lint W0006 reads it.
    pub admin: bool,
    /// Parent roles whose permissions this role also holds.
    pub inherits: Vec<Ident>,
    /// Grants, in source order.
    pub grants: Vec<Grant>,
    /// The whole declaration (in YAML, its name).
    pub span: Span,
}

/// `grant ITEMS [on "GLOB"] [when EXPR]`
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The permissions granted.
    pub items: Vec<PermRef>,
    /// A glob the resource id must match.
    pub on: Option<StrLit>,
    /// A condition that must hold.
    pub when: Option<Expr>,
    /// The whole grant.
    pub span: Span,
}

/// Whether a policy allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Grants access when it applies.
    Allow,
    /// Refuses access when it applies, whatever else allows it.
    Deny,
}

/// Whether a policy's condition must hold (`when`) or must not hold (`unless`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionKind {
    /// The policy applies when the expression is true.
    When,
    /// The policy applies when the expression is false.
    Unless,
}

/// A policy's condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// `when` or `unless`.
    pub kind: ConditionKind,
    /// The expression.
    pub expr: Expr,
}

/// An access policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDecl {
    /// The policy's unique id.
    pub id: StrLit,
    /// Allow or deny.
    pub effect: Effect,
    /// The permissions (patterns or groups) it covers.
    pub actions: Vec<PermRef>,
    /// If not empty, it applies only to principals holding one of these roles (effective roles).
    pub roles: Vec<Ident>,
    /// If not empty, it applies only to principals whose id matches one of these globs.
    pub principals: Vec<StrLit>,
    /// If not empty, it applies only to resources whose id matches one of these globs.
    pub resources: Vec<StrLit>,
    /// An optional `when` or `unless` condition.
    pub condition: Option<Condition>,
    /// The whole policy.
    pub span: Span,
}

/// An expression in a condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// The root of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    /// `principal`
    Principal,
    /// `resource`
    Resource,
    /// `context`
    Context,
}

impl Root {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Root::Principal => "principal",
            Root::Resource => "resource",
            Root::Context => "context",
        }
    }
}

/// A comparison or membership operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
        }
    }
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `"text"`
    Str(String),
    /// `42`
    Int(i64),
    /// `true`, `false`
    Bool(bool),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `principal.id`, `resource.owner`, `context.a.b`
    Path {
        /// `principal`, `resource` or `context`.
        root: Root,
        /// The names after the root.
        fields: Vec<Ident>,
    },
    /// `has(x)`, `len(x)`, `cidr("...")`, ...
    Call {
        /// The function's name.
        func: Ident,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// `!e`
    Not(Box<Expr>),
    /// `a && b`
    And(Box<Expr>, Box<Expr>),
    /// `a || b`
    Or(Box<Expr>, Box<Expr>),
    /// `a OP b`
    Cmp {
        /// The operator.
        op: CmpOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
}
