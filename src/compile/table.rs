//! Flat tables indexed by newtype ids, and the fast hasher for name lookups.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(crate) u32);

        impl $name {
            /// The index of this id in its table.
            pub fn index(self) -> usize {
                self.0 as usize
            }

            pub(crate) fn from_index(i: usize) -> $name {
                $name(u32::try_from(i).unwrap_or(u32::MAX))
            }
        }
    )*};
}

id_type! {
    /// A declared resource kind.
    KindId;
    /// A declared permission (`kind:action`).
    PermId;
    /// A declared role.
    RoleId;
    /// One `grant` statement of a role.
    GrantId;
    /// An access policy.
    PolicyId;
}

/// One row of items per id, stored contiguously.
#[derive(Debug, Clone)]
pub(crate) struct Table<T> {
    offsets: Vec<u32>,
    items: Vec<T>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table { offsets: vec![0], items: Vec::new() }
    }
}

impl<T> Table<T> {
    /// Appends the next row.
    pub(crate) fn push_row(&mut self, row: impl IntoIterator<Item = T>) {
        self.items.extend(row);
        self.offsets.push(u32::try_from(self.items.len()).unwrap_or(u32::MAX));
    }

    /// The row at `index`; empty past the end.
    #[inline]
    pub(crate) fn row(&self, index: usize) -> &[T] {
        match (self.offsets.get(index), self.offsets.get(index + 1)) {
            (Some(&a), Some(&b)) => self.items.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Heap bytes used.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 4 + self.items.capacity() * std::mem::size_of::<T>()
    }
}

/// The Fx hash (as in rustc): a multiply-rotate per word. Names are trusted policy
/// content, so a keyed hash buys nothing here and costs time on every check.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A map from names to ids with the Fx hash.
pub(crate) type NameMap<V> = HashMap<Box<str>, V, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_separate() {
        let mut t = Table::default();
        t.push_row([1, 2]);
        t.push_row([]);
        t.push_row([3]);
        assert_eq!(t.row(0), &[1, 2]);
        assert_eq!(t.row(1), &[] as &[i32]);
        assert_eq!(t.row(2), &[3]);
        assert_eq!(t.row(3), &[] as &[i32]);
    }

    #[test]
    fn fx_hash_separates_similar_names() {
        let h = |s: &str| {
            let mut f = FxHasher::default();
            std::hash::Hash::hash(s, &mut f);
            f.finish()
        };
        assert_ne!(h("member"), h("members"));
        assert_ne!(h("ab"), h("ba"));
    }
}
