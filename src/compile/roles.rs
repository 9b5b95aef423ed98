//! Role inheritance: cycle detection and the precomputed closure of every role.

use super::table::{RoleId, Table};

/// Finds the inheritance cycles. Each cycle is listed once, as the roles in order with
/// the first repeated at the end, starting from its smallest id.
pub(crate) fn cycles(parents: &[Vec<RoleId>]) -> Vec<Vec<RoleId>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; parents.len()];
    let mut found: Vec<Vec<RoleId>> = Vec::new();
    // Iterative depth-first search: (role, next parent to visit). The stack is the open path.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..parents.len() {
        if mark[start] != Mark::New {
            continue;
        }
        mark[start] = Mark::Open;
        stack.push((start, 0));
        while let Some(&mut (role, ref mut next)) = stack.last_mut() {
            let Some(parent) = parents[role].get(*next).map(|p| p.index()) else {
                mark[role] = Mark::Done;
                stack.pop();
                continue;
            };
            *next += 1;
            match mark.get(parent) {
                Some(Mark::New) => {
                    mark[parent] = Mark::Open;
                    stack.push((parent, 0));
                }
                Some(Mark::Open) => {
                    let from = stack.iter().position(|(r, _)| *r == parent).unwrap_or(0);
                    let mut cycle: Vec<RoleId> = stack[from..].iter().map(|(r, _)| RoleId::from_index(*r)).collect();
                    let min = cycle.iter().enumerate().min_by_key(|(_, r)| **r).map_or(0, |(i, _)| i);
                    cycle.rotate_left(min);
                    cycle.push(cycle[0]);
                    if !found.contains(&cycle) {
                        found.push(cycle);
                    }
                }
                _ => {}
            }
        }
    }
    found
}

/// For every role, itself and all roles it inherits from, sorted by id.
/// The parents must be acyclic (see [`cycles`]). Fails with the first role whose
/// closure pushes the total number of entries past `limit`.
pub(crate) fn ancestors(parents: &[Vec<RoleId>], limit: usize) -> Result<Table<RoleId>, RoleId> {
    let order = topological(parents);
    let mut sets: Vec<Vec<RoleId>> = vec![Vec::new(); parents.len()];
    let mut total = 0usize;
    for role in order {
        // Refuse before building: the set is at most this large.
        let bound = 1 + parents[role].iter().map(|p| sets[p.index()].len()).sum::<usize>();
        if total + bound > limit {
            return Err(RoleId::from_index(role));
        }
        let mut set = Vec::with_capacity(bound);
        set.push(RoleId::from_index(role));
        for p in &parents[role] {
            set.extend_from_slice(&sets[p.index()]);
        }
        set.sort_unstable();
        set.dedup();
        total += set.len();
        sets[role] = set;
    }
    let mut table = Table::default();
    for set in sets {
        table.push_row(set);
    }
    Ok(table)
}

/// Roles ordered so that every role comes after all of its parents.
fn topological(parents: &[Vec<RoleId>]) -> Vec<usize> {
    let mut done = vec![false; parents.len()];
    let mut open = vec![false; parents.len()];
    let mut order = Vec::with_capacity(parents.len());
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..parents.len() {
        if done[start] {
            continue;
        }
        open[start] = true;
        stack.push((start, 0));
        while let Some(&mut (role, ref mut next)) = stack.last_mut() {
            match parents[role].get(*next).map(|p| p.index()) {
                Some(p) => {
                    *next += 1;
                    if !done[p] && !open[p] {
                        open[p] = true;
                        stack.push((p, 0));
                    }
                }
                None => {
                    done[role] = true;
                    open[role] = false;
                    order.push(role);
                    stack.pop();
                }
            }
        }
    }
    order
}

/// A shortest inheritance path from `from` to `to` (both included), by breadth-first search.
pub(crate) fn path(parents: &[Vec<RoleId>], from: RoleId, to: RoleId) -> Vec<RoleId> {
    let mut came_from: Vec<Option<RoleId>> = vec![None; parents.len()];
    let mut queue = std::collections::VecDeque::from([from]);
    let mut seen = vec![false; parents.len()];
    if let Some(s) = seen.get_mut(from.index()) {
        *s = true;
    }
    while let Some(role) = queue.pop_front() {
        if role == to {
            let mut path = vec![to];
            let mut at = to;
            while let Some(prev) = came_from[at.index()] {
                path.push(prev);
                at = prev;
            }
            path.reverse();
            return path;
        }
        for p in parents.get(role.index()).map(Vec::as_slice).unwrap_or(&[]) {
            if !seen[p.index()] {
                seen[p.index()] = true;
                came_from[p.index()] = Some(role);
                queue.push_back(*p);
            }
        }
    }
    vec![from]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[&[u32]]) -> Vec<Vec<RoleId>> {
        edges.iter().map(|ps| ps.iter().map(|p| RoleId(*p)).collect()).collect()
    }

    fn ids(v: &[RoleId]) -> Vec<u32> {
        v.iter().map(|r| r.0).collect()
    }

    #[test]
    fn closure_includes_every_ancestor_once() {
        // 0 <- 1 <- 2, and 3 inherits 2 and 0 (a diamond).
        let g = graph(&[&[], &[0], &[1], &[2, 0]]);
        assert!(cycles(&g).is_empty());
        let a = ancestors(&g, 100).unwrap();
        assert_eq!(ids(a.row(0)), [0]);
        assert_eq!(ids(a.row(2)), [0, 1, 2]);
        assert_eq!(ids(a.row(3)), [0, 1, 2, 3]);
    }

    #[test]
    fn cycles_are_found_once_each() {
        let g = graph(&[&[1], &[2], &[0], &[3], &[0]]);
        let c = cycles(&g);
        assert_eq!(c.iter().map(|c| ids(c)).collect::<Vec<_>>(), [vec![0, 1, 2, 0], vec![3, 3]]);
    }

    #[test]
    fn path_follows_parents() {
        let g = graph(&[&[], &[0], &[1], &[2, 0]]);
        assert_eq!(ids(&path(&g, RoleId(3), RoleId(0))), [3, 0]);
        assert_eq!(ids(&path(&g, RoleId(2), RoleId(0))), [2, 1, 0]);
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let g: Vec<Vec<RoleId>> = (0..200_000u32).map(|i| if i == 0 { vec![] } else { vec![RoleId(i - 1)] }).collect();
        assert!(cycles(&g).is_empty());
        assert_eq!(topological(&g).len(), 200_000);
        assert!(ancestors(&g, 1_000_000).is_err());
    }
}
