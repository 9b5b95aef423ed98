//! Input limits: every input Rampart reads is bounded.

/// Bounds on policy files and requests. Inputs past a limit are rejected with a
/// diagnostic (for policies) or an error decision (for requests), never a panic.
///
/// The defaults suit hand-written and generated policy sets alike; raise them for
/// very large generated sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest policy file, in bytes. Default: 8 MiB.
    pub max_file_bytes: usize,
    /// Most files in one policy set. Default: 10,000.
    pub max_files: usize,
    /// Deepest nesting of brackets in a DSL file or a condition, and deepest operator
    /// tree of a condition. Default: 32.
    pub max_nesting: usize,
    /// Most entries in all role closures together (each role counts itself and every
    /// role it inherits from). Bounds compile time and memory on pathological
    /// inheritance, such as one very long chain. Default: 10,000,000 (40 MB of closures;
    /// 100,000 roles eight levels deep need under a million).
    pub max_closure_entries: usize,
    /// Most entries in the permission index: for every role, the permissions its closure
    /// grants, plus for every policy the permissions it covers. Bounds compile time and
    /// memory when wildcards meet many kinds and roles (each entry costs about 32 bytes of
    /// snapshot tables). Default: 20,000,000; never more than 2^31 - 1, whatever is set.
    pub max_index_entries: usize,
    /// Largest JSON request, in bytes. Default: 64 KiB.
    pub max_request_bytes: usize,
    /// Most roles named in one request. Default: 256.
    pub max_request_roles: usize,
    /// Most attributes in one attribute map of a request, and most items in one list. Default: 1,024.
    pub max_request_attrs: usize,
    /// Deepest nesting of maps and lists in a request's attribute values. Default: 8.
    pub max_value_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 8 << 20,
            max_files: 10_000,
            max_nesting: 32,
            max_closure_entries: 10_000_000,
            max_index_entries: 20_000_000,
            max_request_bytes: 64 << 10,
            max_request_roles: 256,
            max_request_attrs: 1024,
            max_value_depth: 8,
        }
    }
}
