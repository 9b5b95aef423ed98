//! Requests: who wants to do what to which resource, in which context.
//!
//! A [`Request`] borrows its strings, so a service builds one from data it already
//! holds without copying or serializing. The same types deserialize from JSON
//! (borrowing from the input where it has no escapes).

use crate::limits::Limits;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::net::IpAddr;

/// An attribute value in a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A string.
    Str(Cow<'a, str>),
    /// An IP address (JSON gives addresses as strings; conditions parse them when needed).
    Ip(IpAddr),
    /// A list of values.
    List(Slice<'a, Value<'a>>),
    /// A nested map, reached by paths such as `context.device.trusted`.
    Map(Attrs<'a>),
}

impl Value<'_> {
    /// The name of this value's type, as used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Str(_) => "string",
            Value::Ip(_) => "ip",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Value<'a> {
        Value::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::Str(Cow::Owned(s))
    }
}

impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<IpAddr> for Value<'_> {
    fn from(ip: IpAddr) -> Self {
        Value::Ip(ip)
    }
}

impl<'a> From<&'a [Value<'a>]> for Value<'a> {
    fn from(items: &'a [Value<'a>]) -> Value<'a> {
        Value::List(Slice::Borrowed(items))
    }
}

impl<'a> From<Vec<Value<'a>>> for Value<'a> {
    fn from(items: Vec<Value<'a>>) -> Value<'a> {
        Value::List(Slice::Owned(items))
    }
}

/// A borrowed or owned slice. Unlike `Cow<[T]>`, it keeps request types covariant, so a
/// request built from long-lived data can be passed where a shorter lifetime is expected.
#[derive(Debug, Clone, PartialEq)]
pub enum Slice<'a, T> {
    /// Borrowed items.
    Borrowed(&'a [T]),
    /// Owned items.
    Owned(Vec<T>),
}

impl<T> std::ops::Deref for Slice<'_, T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match self {
            Slice::Borrowed(items) => items,
            Slice::Owned(items) => items,
        }
    }
}

impl<T> Default for Slice<'_, T> {
    fn default() -> Self {
        Slice::Borrowed(&[])
    }
}

/// One attribute: a name and a value.
pub type Attr<'a> = (Cow<'a, str>, Value<'a>);

/// An attribute, for building attribute slices without allocating:
/// `[attr("owner", "alice"), attr("size", 12)]`.
pub fn attr<'a>(name: &'a str, value: impl Into<Value<'a>>) -> Attr<'a> {
    (Cow::Borrowed(name), value.into())
}

/// A map of attributes, kept in the order given. Lookups compare names; the first
/// attribute of a name wins.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attrs<'a>(Slice<'a, Attr<'a>>);

impl<'a> Attrs<'a> {
    /// Borrows a slice of attributes.
    pub fn new(attrs: &'a [Attr<'a>]) -> Attrs<'a> {
        Attrs(Slice::Borrowed(attrs))
    }

    /// The value of an attribute.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&Value<'a>> {
        self.0.iter().find(|(k, _)| crate::compile::same(k.as_bytes(), name.as_bytes())).map(|(_, v)| v)
    }

    /// Every attribute.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The number of attributes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> From<&'a [Attr<'a>]> for Attrs<'a> {
    fn from(attrs: &'a [Attr<'a>]) -> Attrs<'a> {
        Attrs::new(attrs)
    }
}

impl<'a, const N: usize> From<&'a [Attr<'a>; N]> for Attrs<'a> {
    fn from(attrs: &'a [Attr<'a>; N]) -> Attrs<'a> {
        Attrs::new(attrs)
    }
}

impl<'a> From<Vec<Attr<'a>>> for Attrs<'a> {
    fn from(attrs: Vec<Attr<'a>>) -> Attrs<'a> {
        Attrs(Slice::Owned(attrs))
    }
}

/// The role names a principal presents.
#[derive(Debug, Clone, PartialEq)]
pub struct Roles<'a>(RolesRepr<'a>);

#[derive(Debug, Clone, PartialEq)]
enum RolesRepr<'a> {
    Borrowed(&'a [&'a str]),
    Owned(Vec<Cow<'a, str>>),
}

impl Default for Roles<'_> {
    fn default() -> Self {
        Roles(RolesRepr::Borrowed(&[]))
    }
}

impl<'a> Roles<'a> {
    /// The role names.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (borrowed, owned) = match &self.0 {
            RolesRepr::Borrowed(b) => (*b, &[][..]),
            RolesRepr::Owned(o) => (&[][..], o.as_slice()),
        };
        borrowed.iter().copied().chain(owned.iter().map(|c| c.as_ref()))
    }

    /// Calls `f` on each role name, in order: the check path's loop, without the
    /// iterator chain that [`Roles::iter`] needs to hide the two representations.
    #[inline(always)]
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str)) {
        match &self.0 {
            RolesRepr::Borrowed(names) => names.iter().for_each(|n| f(n)),
            RolesRepr::Owned(names) => names.iter().for_each(|n| f(n)),
        }
    }

    /// The number of role names.
    pub fn len(&self) -> usize {
        match &self.0 {
            RolesRepr::Borrowed(b) => b.len(),
            RolesRepr::Owned(o) => o.len(),
        }
    }

    /// Whether no role is named.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> From<&'a [&'a str]> for Roles<'a> {
    fn from(roles: &'a [&'a str]) -> Roles<'a> {
        Roles(RolesRepr::Borrowed(roles))
    }
}

impl<'a, const N: usize> From<&'a [&'a str; N]> for Roles<'a> {
    fn from(roles: &'a [&'a str; N]) -> Roles<'a> {
        Roles(RolesRepr::Borrowed(roles))
    }
}

impl<'a> From<Vec<Cow<'a, str>>> for Roles<'a> {
    fn from(roles: Vec<Cow<'a, str>>) -> Roles<'a> {
        Roles(RolesRepr::Owned(roles))
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal<'a> {
    /// The principal's id (`principal.id`).
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// The roles it presents; rules see these closed over inheritance.
    #[serde(default, borrow)]
    pub roles: Roles<'a>,
    /// Its attributes (`principal.<attr>`).
    #[serde(default, borrow)]
    pub attrs: Attrs<'a>,
}

impl<'a> Principal<'a> {
    /// A principal with no roles and no attributes.
    pub fn new(id: &'a str) -> Principal<'a> {
        Principal { id: Cow::Borrowed(id), roles: Roles::default(), attrs: Attrs::default() }
    }

    /// Sets the role names.
    pub fn roles(mut self, roles: impl Into<Roles<'a>>) -> Self {
        self.roles = roles.into();
        self
    }

    /// Sets the attributes.
    pub fn attrs(mut self, attrs: impl Into<Attrs<'a>>) -> Self {
        self.attrs = attrs.into();
        self
    }
}

/// What is acted on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource<'a> {
    /// The resource kind (`resource.kind`), such as `mail`.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// The resource's id (`resource.id`).
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// Its attributes (`resource.<attr>`).
    #[serde(default, borrow)]
    pub attrs: Attrs<'a>,
}

impl<'a> Resource<'a> {
    /// A resource with no attributes.
    pub fn new(kind: &'a str, id: &'a str) -> Resource<'a> {
        Resource { kind: Cow::Borrowed(kind), id: Cow::Borrowed(id), attrs: Attrs::default() }
    }

    /// Sets the attributes.
    pub fn attrs(mut self, attrs: impl Into<Attrs<'a>>) -> Self {
        self.attrs = attrs.into();
        self
    }
}

/// One authorization question: may `principal` do `action` on `resource`, in `context`?
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request<'a> {
    /// Who is asking.
    #[serde(borrow)]
    pub principal: Principal<'a>,
    /// The action, one of those the resource kind declares.
    #[serde(borrow)]
    pub action: Cow<'a, str>,
    /// What is acted on.
    #[serde(borrow)]
    pub resource: Resource<'a>,
    /// Facts about the request itself (`context.<attr>`): network, MFA, time, scopes.
    #[serde(default, borrow)]
    pub context: Attrs<'a>,
}

impl<'a> Request<'a> {
    /// A request with an empty context.
    pub fn new(principal: Principal<'a>, action: &'a str, resource: Resource<'a>) -> Request<'a> {
        Request { principal, action: Cow::Borrowed(action), resource, context: Attrs::default() }
    }

    /// Sets the context.
    pub fn context(mut self, context: impl Into<Attrs<'a>>) -> Self {
        self.context = context.into();
        self
    }

    /// Parses a JSON request, enforcing `limits`.
    pub fn from_json(json: &'a str, limits: &Limits) -> Result<Request<'a>, RequestError> {
        if json.len() > limits.max_request_bytes {
            return Err(RequestError::TooLarge { bytes: json.len(), limit: limits.max_request_bytes });
        }
        let request: Request<'a> =
            serde_json::from_str(json).map_err(|e| RequestError::Json { message: json_message(&e) })?;
        request.check_limits(limits)?;
        Ok(request)
    }

    /// Checks the request's sizes against `limits`.
    pub fn check_limits(&self, limits: &Limits) -> Result<(), RequestError> {
        if self.principal.roles.len() > limits.max_request_roles {
            return Err(RequestError::Limit { what: "principal.roles", limit: limits.max_request_roles });
        }
        for (what, attrs) in [
            ("principal.attrs", &self.principal.attrs),
            ("resource.attrs", &self.resource.attrs),
            ("context", &self.context),
        ] {
            check_attrs(attrs, what, 1, limits)?;
        }
        Ok(())
    }
}

fn check_attrs(attrs: &Attrs<'_>, what: &'static str, depth: usize, limits: &Limits) -> Result<(), RequestError> {
    if attrs.len() > limits.max_request_attrs {
        return Err(RequestError::Limit { what, limit: limits.max_request_attrs });
    }
    attrs.iter().try_for_each(|(_, v)| check_value(v, what, depth, limits))
}

fn check_value(v: &Value<'_>, what: &'static str, depth: usize, limits: &Limits) -> Result<(), RequestError> {
    if depth > limits.max_value_depth {
        return Err(RequestError::Limit { what: "nesting depth of attribute values", limit: limits.max_value_depth });
    }
    match v {
        Value::Map(m) => check_attrs(m, what, depth + 1, limits),
        Value::List(items) => {
            if items.len() > limits.max_request_attrs {
                return Err(RequestError::Limit { what: "list length", limit: limits.max_request_attrs });
            }
            items.iter().try_for_each(|v| check_value(v, what, depth + 1, limits))
        }
        _ => Ok(()),
    }
}

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The JSON is malformed or has the wrong shape.
    #[error("invalid request: {message}")]
    Json {
        /// What is wrong, with line and column.
        message: String,
    },
    /// The request is larger than allowed.
    #[error("request of {bytes} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// The request's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A part of the request is larger than allowed.
    #[error("{what} exceeds the limit of {limit}")]
    Limit {
        /// Which part.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
}

fn json_message(e: &serde_json::Error) -> String {
    // serde_json ends its messages with " at line L column C"; keep that, it locates the fault.
    e.to_string()
}

impl<'de: 'a, 'a> Deserialize<'de> for Roles<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RolesVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for RolesVisitor<'a> {
            type Value = Roles<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of role names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Roles<'a>, A::Error> {
                let mut roles = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(CowStr(s)) = seq.next_element()? {
                    roles.push(s);
                }
                Ok(Roles(RolesRepr::Owned(roles)))
            }
        }
        d.deserialize_seq(RolesVisitor(PhantomData))
    }
}

/// A string that borrows from the input when it can.
struct CowStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(StrVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Attrs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AttrsVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for AttrsVisitor<'a> {
            type Value = Attrs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attrs<'a>, A::Error> {
                let mut attrs: Vec<Attr<'a>> = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                let mut nulls: Vec<Cow<'a, str>> = Vec::new();
                while let Some(CowStr(key)) = map.next_key()? {
                    if attrs.iter().any(|(k, _)| *k == key) || nulls.contains(&key) {
                        return Err(de::Error::custom(format_args!("duplicate attribute `{key}`")));
                    }
                    // `null` means absent, as if the attribute were not sent.
                    match map.next_value()? {
                        MaybeValue(Some(v)) => attrs.push((key, v)),
                        MaybeValue(None) => nulls.push(key),
                    }
                }
                Ok(Attrs(Slice::Owned(attrs)))
            }
        }
        d.deserialize_map(AttrsVisitor(PhantomData))
    }
}

/// A value, or `None` for JSON `null`.
struct MaybeValue<'a>(Option<Value<'a>>);

impl<'de> Deserialize<'de> for MaybeValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = MaybeValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, integer, boolean, list or object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(MaybeValue(None))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(MaybeValue(Some(Value::Bool(v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(MaybeValue(Some(Value::Int(v))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                match i64::try_from(v) {
                    Ok(n) => Ok(MaybeValue(Some(Value::Int(n)))),
                    Err(_) => Err(E::custom(format_args!("integer {v} does not fit in 64 signed bits"))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Err(E::custom(format_args!("{v} is not an integer; attribute numbers are 64-bit integers")))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MaybeValue(Some(Value::Str(Cow::Borrowed(v)))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MaybeValue(Some(Value::Str(Cow::Owned(v.to_owned())))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(MaybeValue(Some(Value::Str(Cow::Owned(v)))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(MaybeValue(v)) = seq.next_element()? {
                    match v {
                        Some(v) => items.push(v),
                        None => return Err(de::Error::custom("lists cannot hold `null`")),
                    }
                }
                Ok(MaybeValue(Some(Value::List(Slice::Owned(items)))))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let attrs = Attrs::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(MaybeValue(Some(Value::Map(attrs))))
            }
        }
        d.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Request<'_>, RequestError> {
        Request::from_json(json, &Limits::default())
    }

    #[test]
    fn json_request_reads_every_part() {
        let r = parse(
            r#"{"principal": {"id": "alice", "roles": ["member"], "attrs": {"department": "eng"}},
                "action": "delete",
                "resource": {"kind": "mail", "id": "m-42", "attrs": {"owner": "alice", "size": 3, "tags": ["a"]}},
                "context": {"ip": "10.1.2.3", "mfa": true, "device": {"trusted": false}, "gone": null}}"#,
        )
        .unwrap();
        assert_eq!(r.principal.id, "alice");
        assert_eq!(r.principal.roles.iter().collect::<Vec<_>>(), ["member"]);
        assert_eq!(r.principal.attrs.get("department"), Some(&Value::from("eng")));
        assert_eq!(r.resource.attrs.get("size"), Some(&Value::Int(3)));
        assert_eq!(r.context.get("mfa"), Some(&Value::Bool(true)));
        assert_eq!(r.context.get("gone"), None);
        let Some(Value::Map(device)) = r.context.get("device") else { panic!("device is a map") };
        assert_eq!(device.get("trusted"), Some(&Value::Bool(false)));
    }

    #[test]
    fn context_and_attrs_may_be_omitted() {
        let r =
            parse(r#"{"principal": {"id": "a"}, "action": "read", "resource": {"kind": "mail", "id": "m"}}"#).unwrap();
        assert!(r.context.is_empty() && r.principal.roles.is_empty() && r.resource.attrs.is_empty());
    }

    #[test]
    fn malformed_requests_are_errors_that_say_why() {
        let err = |json: &str| parse(json).unwrap_err().to_string();
        assert!(err(r#"{"principal": {"id": "a"}, "action": "read"}"#).contains("missing field `resource`"));
        assert!(err(r#"{"principal": {"id": "a"}, "actoin": "read"}"#).contains("unknown field `actoin`"));
        let float =
            r#"{"principal": {"id": "a"}, "action": "r", "resource": {"kind": "k", "id": "i"}, "context": {"x": 1.5}}"#;
        assert!(err(float).contains("not an integer"));
        assert!(err("{").contains("line 1"));
        let dup = r#"{"principal": {"id": "a"}, "action": "r", "resource": {"kind": "k", "id": "i"}, "context": {"x": true, "x": null}}"#;
        assert!(err(dup).contains("duplicate attribute `x`"));
    }

    #[test]
    fn limits_bound_requests() {
        let limits = Limits { max_request_bytes: 10, ..Limits::default() };
        assert!(matches!(Request::from_json("{\"principal\": 1}", &limits), Err(RequestError::TooLarge { .. })));
        let deep = r#"{"principal": {"id": "a"}, "action": "r", "resource": {"kind": "k", "id": "i"},
            "context": {"a": {"b": {"c": [[[[[[[1]]]]]]]}}}}"#;
        assert!(matches!(parse(deep), Err(RequestError::Limit { .. })));
    }

    #[test]
    fn borrowed_requests_need_no_copies() {
        let roles = ["member"];
        let attrs = [attr("owner", "alice")];
        let r = Request::new(Principal::new("alice").roles(&roles), "read", Resource::new("mail", "m").attrs(&attrs));
        assert!(matches!(r.resource.attrs.get("owner"), Some(Value::Str(Cow::Borrowed("alice")))));
    }
}
