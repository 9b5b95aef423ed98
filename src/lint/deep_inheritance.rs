//! W0008 `deep-inheritance`: inheritance deeper than the configured limit.

use super::{Context, warning};
use crate::compile::RoleId;
use crate::diagnostic::{CodeInfo, Diagnostic};

/// ## What it finds
/// A role whose inheritance goes deeper than [`super::LintConfig::max_inheritance_depth`]
/// levels (default 8; `rampart check --max-depth N`). A role that inherits nothing is
/// level 0, a role that inherits it level 1, and so on along the longest chain. Each
/// chain is reported once, at the first role past the limit.
///
/// ## Why it matters
/// Nobody can tell what a role twelve levels down may do without a tool: a grant added
/// near the top reaches every role below it, and reviews miss it. Deep hierarchies are
/// usually organisation charts copied into roles, where a few flat roles would do.
///
/// ## Example
/// With `--max-depth 2`:
/// ```text
/// role a
/// role b inherits a
/// role c inherits b
/// role d inherits c    # warning[W0008]: role `d` is 3 levels deep (`d -> c -> b -> a`), more than the limit of 2
/// ```
pub(super) const LINT: CodeInfo = CodeInfo {
    code: "W0008",
    name: "deep-inheritance",
    summary: "a role whose inheritance is deeper than the configured limit",
    help: "flatten the hierarchy, or raise the limit (`--max-depth`)",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let parents = &cx.snapshot.parents;
    let depths = depths(parents);
    let limit = cx.config.max_inheritance_depth;
    for role in cx.roles() {
        let Some(id) = cx.role_id(&role.name.name) else { continue };
        let depth = depths.get(id.index()).copied().unwrap_or(0);
        if depth != limit.saturating_add(1) {
            continue;
        }
        // The longest chain: at each step, the deepest parent.
        let mut chain = vec![cx.role_name(id)];
        let mut at = id;
        while let Some(next) = parents
            .get(at.index())
            .and_then(|ps| ps.iter().max_by_key(|p| (depths.get(p.index()).copied(), std::cmp::Reverse(p.index()))))
        {
            chain.push(cx.role_name(*next));
            at = *next;
        }
        let chain = if chain.len() > 12 {
            let (head, tail) = (chain[..5].join(" -> "), chain[chain.len() - 5..].join(" -> "));
            format!("{head} -> ... -> {tail}")
        } else {
            chain.join(" -> ")
        };
        let message =
            format!("role `{}` is {depth} levels deep (`{chain}`), more than the limit of {limit}", role.name.name);
        let help = "flatten the hierarchy (roles that inherit this one are deeper still), or raise the limit with \
                    `--max-depth`"
            .to_owned();
        out.push(warning(&LINT, role.name.span, message, help));
    }
}

/// Each role's depth: 0 without parents, else one more than its deepest parent. The
/// walk is iterative, so long chains cannot overflow the stack.
fn depths(parents: &[Vec<RoleId>]) -> Vec<usize> {
    let n = parents.len();
    let mut depth: Vec<Option<usize>> = vec![None; n];
    // INVARIANT: the compiler refuses cycles; `open` (the roles on the current path) only
    // keeps a malformed graph from looping: a parent on the path counts as done.
    let mut open = vec![false; n];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..n {
        if depth[start].is_some() {
            continue;
        }
        open[start] = true;
        stack.push((start, 0));
        while let Some(top) = stack.last_mut() {
            let (role, next) = *top;
            top.1 += 1;
            match parents[role].get(next).map(|p| p.index()) {
                Some(p) if p < n && depth[p].is_none() && !open[p] => {
                    open[p] = true;
                    stack.push((p, 0));
                }
                Some(_) => {}
                None => {
                    let deepest = parents[role].iter().filter_map(|p| depth.get(p.index()).copied().flatten()).max();
                    depth[role] = Some(deepest.map_or(0, |d| d + 1));
                    open[role] = false;
                    stack.pop();
                }
            }
        }
    }
    depth.into_iter().map(|d| d.unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[usize]) -> Vec<RoleId> {
        list.iter().map(|i| RoleId::from_index(*i)).collect()
    }

    #[test]
    fn depth_follows_the_longest_chain() {
        // 0 <- 1 <- 2, and 3 inherits both 0 and 2.
        let parents = vec![ids(&[]), ids(&[0]), ids(&[1]), ids(&[0, 2])];
        assert_eq!(depths(&parents), [0, 1, 2, 3]);
    }

    #[test]
    fn long_chains_do_not_overflow() {
        let parents: Vec<Vec<RoleId>> = (0..100_000).map(|i| if i == 0 { ids(&[]) } else { ids(&[i - 1]) }).collect();
        assert_eq!(depths(&parents)[99_999], 99_999);
    }
}
