//! Flat tables indexed by newtype ids, and the fast hasher for name lookups.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

/// The check path's grant lookup: for a (role, permission) pair, the role's unconditional
/// grant of that permission over its closure, or a mark that only guarded grants cover it.
/// One open-addressed array of 12-byte slots, at most two thirds full, so a lookup (hit or
/// miss) usually reads one cache line wherever the role's grants are, instead of a row
/// offset and a binary search over the row.
#[derive(Debug, Clone, Default)]
pub(crate) struct GrantIndex {
    /// `[role, permission, value]`; a role of `u32::MAX` marks an empty slot. The value is
    /// a grant id, or [`GUARDED`].
    slots: Vec<[u32; 3]>,
}

/// What a role holds of a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// An unconditional grant: this one.
    Plain(GrantId),
    /// Only grants with `on` or `when`, which the role's guarded row lists.
    Guarded,
}

const EMPTY: u32 = u32::MAX;
const GUARDED: u32 = u32::MAX;

impl GrantIndex {
    /// Builds the index from every (role, permission, held) entry; each pair at most once.
    pub(crate) fn new(entries: &[(RoleId, PermId, Held)]) -> GrantIndex {
        let mut index = GrantIndex { slots: vec![[EMPTY; 3]; entries.len() + entries.len() / 2 + 1] };
        for &(role, perm, held) in entries {
            let value = match held {
                Held::Plain(g) => g.0,
                Held::Guarded => GUARDED,
            };
            let mut i = index.home(role, perm);
            while index.slots[i][0] != EMPTY {
                i = if i + 1 == index.slots.len() { 0 } else { i + 1 };
            }
            index.slots[i] = [role.0, perm.0, value];
        }
        index
    }

    /// The first slot to look at: Fibonacci hashing of the pair, mapped onto the array by
    /// a multiply rather than a division.
    #[inline(always)]
    fn home(&self, role: RoleId, perm: PermId) -> usize {
        let key = (u64::from(role.0) << 32) | u64::from(perm.0);
        let hash = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        ((u128::from(hash) * self.slots.len() as u128) >> 64) as usize
    }

    /// What `role` holds of `perm`, if anything.
    #[inline(always)]
    pub(crate) fn get(&self, role: RoleId, perm: PermId) -> Option<Held> {
        let mut i = self.home(role, perm);
        loop {
            let [r, p, value] = *self.slots.get(i)?;
            if r == role.0 && p == perm.0 {
                return Some(if value == GUARDED { Held::Guarded } else { Held::Plain(GrantId(value)) });
            }
            if r == EMPTY {
                return None;
            }
            i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
        }
    }

    /// Heap bytes used.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 12
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

/// A map from names to ids with the Fx hash, for compile-time bookkeeping.
pub(crate) type NameMap<V> = HashMap<Box<str>, V, BuildHasherDefault<FxHasher>>;

/// The name lookups of the check hot path: open addressing over a flat array of 16-byte
/// slots that hold everything a lookup needs. Names of up to 8 bytes (most role, kind and
/// action names) are packed into the slot's word, so a lookup hashes a word, compares a
/// word and reads the value from the same slot: one cache line, no visit to the stored
/// string. Longer names keep their entry's index in the word and are compared in full.
/// The first value inserted for a name is kept.
#[derive(Debug, Clone)]
pub(crate) struct NameIndex<V> {
    entries: Vec<(Box<str>, V)>,
    /// A power of two at least twice the number of entries.
    slots: Vec<Slot<V>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot<V> {
    /// The packed name ([`pack`]), or for a name over 8 bytes its entry's index.
    word: u64,
    /// 0 for an empty slot; otherwise 28 bits of the hash above the name's length class.
    tag: u32,
    value: V,
}

impl<V: Copy + Default> Default for NameIndex<V> {
    fn default() -> Self {
        NameIndex { entries: Vec::new(), slots: vec![Slot::default(); 8] }
    }
}

/// A word that, with the length, determines a name of up to 8 bytes (longer names: their
/// first and last 4 bytes, with the rest checked separately).
#[inline(always)]
fn pack(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let first = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let last = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]);
        u64::from(first) | (u64::from(last) << 32)
    } else if n > 0 {
        u64::from(b[0]) | (u64::from(b[n / 2]) << 8) | (u64::from(b[n - 1]) << 16)
    } else {
        0
    }
}

/// Hashes a name given its packed word; names over 8 bytes also mix in every byte.
#[inline(always)]
fn name_hash(b: &[u8], word: u64) -> u64 {
    let mut h = FxHasher { hash: b.len() as u64 };
    h.add(word);
    if b.len() > 8 {
        let mut chunks = b.chunks_exact(8);
        for chunk in &mut chunks {
            h.add(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        }
        h.add(pack(chunks.remainder()));
    }
    // Mix the high bits down: slots are picked by the low bits.
    h.hash ^ (h.hash >> 32)
}

/// The length class of a name in a slot's tag: 1 to 8 for that many bytes, 9 for longer
/// names, 10 for the empty name. Never 0, so an occupied slot's tag is never 0.
const LONG: u32 = 9;

#[inline(always)]
fn tag_of(len: usize, hash: u64) -> u32 {
    let class = match len {
        0 => 10,
        1..=8 => len as u32,
        _ => LONG,
    };
    ((hash >> 32) as u32 & !0xF) | class
}

/// Byte equality without a library call: 8 bytes at a time, then the rest.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut ca).zip(&mut cb) {
        let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        if word(x) != word(y) {
            return false;
        }
    }
    ca.remainder().iter().zip(cb.remainder()).all(|(x, y)| x == y)
}

impl<V: Copy + Default> NameIndex<V> {
    /// The value of a name.
    #[inline(always)]
    pub(crate) fn get(&self, name: &str) -> Option<&V> {
        let bytes = name.as_bytes();
        let word = pack(bytes);
        let hash = name_hash(bytes, word);
        let tag = tag_of(bytes.len(), hash);
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots.get(i)?;
            if slot.tag == 0 {
                return None;
            }
            if slot.tag == tag
                && if tag & 0xF == LONG {
                    self.entries.get(slot.word as usize).is_some_and(|e| same(e.0.as_bytes(), bytes))
                } else {
                    slot.word == word
                }
            {
                return Some(&slot.value);
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether a name is present.
    pub(crate) fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Adds a name; returns false (and keeps the old value) if it is already present.
    pub(crate) fn insert(&mut self, name: &str, value: V) -> bool {
        if self.contains_key(name) {
            return false;
        }
        self.entries.push((name.into(), value));
        if self.entries.len() * 2 > self.slots.len() {
            self.slots = vec![Slot::default(); (self.entries.len() * 2).next_power_of_two().max(8)];
            for index in 0..self.entries.len() {
                self.place(index);
            }
        } else {
            self.place(self.entries.len() - 1);
        }
        true
    }

    fn place(&mut self, index: usize) {
        let (name, value) = &self.entries[index];
        let bytes = name.as_bytes();
        let word = pack(bytes);
        let hash = name_hash(bytes, word);
        let tag = tag_of(bytes.len(), hash);
        let word = if tag & 0xF == LONG { index as u64 } else { word };
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        while self.slots[i].tag != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { word, tag, value: *value };
    }

    /// Every name, in insertion order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| &*e.0)
    }

    /// Every value, in insertion order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|e| &e.1)
    }
}

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
    fn name_index_finds_every_name_and_only_those() {
        let mut index = NameIndex::default();
        let names: Vec<String> = (0..1000).map(|i| format!("role-{i}")).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(index.insert(n, i));
        }
        assert!(!index.insert("role-7", 99), "the first value is kept");
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.get(n), Some(&i));
        }
        for short in ["a", "ab", "abc", "abcd", "abcdefgh", "abcdefghi"] {
            assert!(index.insert(short, 0));
        }
        for missing in [
            "",
            "b",
            "aab",
            "abd",
            "abce",
            "abcdxfgh",
            "abcdefgx",
            "role-",
            "role-1000",
            "role-07",
            "a-much-longer-name",
        ] {
            assert_eq!(index.get(missing), None, "{missing}");
        }
        assert_eq!(index.keys().count(), 1006);
        assert!(same(b"0123456789", b"0123456789") && !same(b"0123456789", b"0123456788") && !same(b"ab", b"abc"));
    }

    #[test]
    fn grant_index_answers_every_pair_and_only_those() {
        // Dense and sparse pairs, so some runs of slots collide and wrap around the end.
        let mut entries = Vec::new();
        for r in 0..300u32 {
            for p in (0..40u32).filter(|p| (r * 7 + p * 3) % 5 != 0) {
                let held = if p % 4 == 0 { Held::Guarded } else { Held::Plain(GrantId(r * 1000 + p)) };
                entries.push((RoleId(r), PermId(p), held));
            }
        }
        let index = GrantIndex::new(&entries);
        for &(role, perm, held) in &entries {
            assert_eq!(index.get(role, perm), Some(held), "{role:?} {perm:?}");
        }
        for r in 0..300u32 {
            for p in (0..40u32).filter(|p| (r * 7 + p * 3) % 5 == 0) {
                assert_eq!(index.get(RoleId(r), PermId(p)), None);
            }
            assert_eq!(index.get(RoleId(r), PermId(40)), None);
        }
        assert_eq!(index.get(RoleId(300), PermId(1)), None);
        assert_eq!(GrantIndex::new(&[]).get(RoleId(0), PermId(0)), None, "an empty index has one empty slot");
        assert_eq!(GrantIndex::default().get(RoleId(0), PermId(0)), None, "and so has no slots at all");
    }

    #[test]
    fn name_index_compares_long_names_in_full() {
        let mut index = NameIndex::default();
        assert!(index.insert("administrator", RoleId(1)));
        assert!(index.insert("admin", RoleId(2)));
        assert!(index.insert("", RoleId(3)));
        assert_eq!(index.get("administrator"), Some(&RoleId(1)));
        assert_eq!(index.get("admin"), Some(&RoleId(2)));
        assert_eq!(index.get(""), Some(&RoleId(3)));
        // Same first and last four bytes and length, different middle.
        assert_eq!(index.get("adminXstrator"), None);
        assert_eq!(index.get("administratorr"), None);
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
