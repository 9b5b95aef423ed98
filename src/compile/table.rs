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
/// One open-addressed array of 12-byte slots, at most half full, so a lookup usually reads
/// one cache line wherever the role's grants are, instead of a row offset and a binary
/// search over the role's grants (the first design).
///
/// In front of it, when it costs no more memory than the array, a bitset per permission
/// over the roles says which roles hold it at all: most roles presented in a check do not
/// hold the permission asked for, and a bit answers that without probing (a probe for an
/// absent pair walks a run of slots).
#[derive(Debug, Clone, Default)]
pub(crate) struct GrantIndex {
    /// `[role, permission, value]`; a role of [`EMPTY`] marks an empty slot. The value is
    /// a plain grant's id, a single guarded grant's id with the [`GUARDED_BY`] bit set, or
    /// [`GUARDED`] for several guarded grants.
    slots: Vec<[u32; 3]>,
    /// Per permission, `row_words` words of one bit per role: set where the index holds the
    /// pair. Empty when too large; then every lookup probes.
    held: Vec<u64>,
    row_words: usize,
}

/// What a role holds of a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// An unconditional grant: this one.
    Plain(GrantId),
    /// Only one grant, with `on` or `when`: this one.
    GuardedBy(GrantId),
    /// Only grants with `on` or `when`, several, which the role's guarded row lists.
    Guarded,
}

const EMPTY: u32 = u32::MAX;
const GUARDED: u32 = u32::MAX;
/// Marks a value as [`Held::GuardedBy`] its grant id.
const GUARDED_BY: u32 = 1 << 31;

/// The most (role, permission) pairs a policy set may index, whatever the configured limit:
/// every grant is in its own role's closure, so this keeps grant ids below [`GUARDED_BY`].
pub(crate) const MAX_INDEX_ENTRIES: usize = GUARDED_BY as usize - 1;

impl GrantIndex {
    /// Builds the index from every (role, permission, held) entry, each pair at most once,
    /// for `roles` roles and `perms` permissions (ids below those).
    pub(crate) fn new(entries: &[(RoleId, PermId, Held)], roles: usize, perms: usize) -> GrantIndex {
        let slots = entries.len() * 2 + 1;
        let row_words = roles.div_ceil(64);
        let bitset_fits = perms.saturating_mul(row_words).saturating_mul(8) <= slots * 12;
        let (held, row_words) = if bitset_fits && row_words > 0 {
            let mut held = vec![0u64; perms * row_words];
            for &(role, perm, _) in entries {
                if let Some(word) = held.get_mut(perm.index() * row_words + role.index() / 64) {
                    *word |= 1 << (role.0 % 64);
                }
            }
            (held, row_words)
        } else {
            (Vec::new(), 0)
        };
        let mut index = GrantIndex { slots: vec![[EMPTY; 3]; slots], held, row_words };
        for &(role, perm, held) in entries {
            // Grant ids are below `GUARDED_BY` (`MAX_INDEX_ENTRIES`); a larger one would be a
            // bug, and is masked rather than allowed to read as another kind of value.
            debug_assert!(!matches!(held, Held::Plain(g) | Held::GuardedBy(g) if g.0 >= GUARDED_BY));
            let value = match held {
                Held::Plain(g) => g.0 & !GUARDED_BY,
                Held::GuardedBy(g) => g.0 | GUARDED_BY,
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
    #[cfg(test)]
    pub(crate) fn get(&self, role: RoleId, perm: PermId) -> Option<Held> {
        if self.may_hold(role, perm) { self.probe(role, perm) } else { None }
    }

    /// False when `role` surely holds nothing of `perm` (a clear bit); true when it may, or
    /// when there is no bitset. No branch: a check ORs these into a mask.
    #[inline(always)]
    pub(crate) fn may_hold(&self, role: RoleId, perm: PermId) -> bool {
        let word = self.held.get(perm.index() * self.row_words + role.index() / 64).copied().unwrap_or(u64::MAX);
        word >> (role.0 % 64) & 1 == 1
    }

    /// What `role` holds of `perm`, by probing the array.
    #[inline(always)]
    pub(crate) fn probe(&self, role: RoleId, perm: PermId) -> Option<Held> {
        let mut i = self.home(role, perm);
        loop {
            let [r, p, value] = *self.slots.get(i)?;
            if r == role.0 && p == perm.0 {
                return Some(match value {
                    GUARDED => Held::Guarded,
                    v if v & GUARDED_BY != 0 => Held::GuardedBy(GrantId(v & !GUARDED_BY)),
                    v => Held::Plain(GrantId(v)),
                });
            }
            if r == EMPTY {
                return None;
            }
            i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
        }
    }

    /// Heap bytes used.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 12 + self.held.capacity() * 8
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
    /// A power of two at least four times the number of entries.
    slots: Vec<Slot<V>>,
    /// Mixed into every hash; [`NameIndex::settle`] picks it.
    seed: u64,
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
        NameIndex { entries: Vec::new(), slots: vec![Slot::default(); 8], seed: 0 }
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

/// Hashes a name given its packed word and the table's seed; names over 8 bytes also mix
/// in every byte.
#[inline(always)]
fn name_hash(b: &[u8], word: u64, seed: u64) -> u64 {
    let mut h = FxHasher { hash: b.len() as u64 ^ seed };
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

/// Byte equality without a library call or a loop over single bytes: names of up to 8
/// bytes compare as their packed words (which, with the length, determine them); longer
/// ones 8 bytes at a time, the last word overlapping the one before.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n <= 8 {
        return pack(a) == pack(b);
    }
    let word = |s: &[u8], at: usize| s.get(at..at + 8).map(|w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
    let mut at = 0;
    while at + 8 < n {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

/// Open addressing at a load of at most a quarter, for the name tables of the check path:
/// a lookup that finds its name in the first slot it reads costs no mispredicted branch,
/// and on a check cycling through many different requests those are most of its cost.
const LOAD_INVERSE: usize = 4;

/// Seeds tried when a table settles: the first one that puts every entry in its home slot,
/// or else the one that displaces fewest.
const SEEDS: u64 = 16;

/// Lays out `n` entries over `slot_count` slots (a power of two) by linear probing; `key`
/// gives entry `i`'s hash under `seed` and its slot. Returns the slots and how many entries
/// are not in their home slot.
fn layout<S: Copy + Default>(
    n: usize,
    slot_count: usize,
    seed: u64,
    key: impl Fn(usize, u64) -> (u64, S),
    occupied: impl Fn(&S) -> bool,
) -> (Vec<S>, usize) {
    let mut slots = vec![S::default(); slot_count];
    let mask = slot_count - 1;
    let mut displaced = 0;
    for index in 0..n {
        let (hash, slot) = key(index, seed);
        displaced += usize::from(occupied(&slots[hash as usize & mask]));
        place(&mut slots, hash, slot, &occupied);
    }
    (slots, displaced)
}

/// The slot that `matches`, by linear probing from the hash's home slot up to the first
/// slot not `occupied`.
#[inline(always)]
fn find<S>(slots: &[S], hash: u64, occupied: impl Fn(&S) -> bool, matches: impl Fn(&S) -> bool) -> Option<&S> {
    let mask = slots.len() - 1;
    let mut i = hash as usize & mask;
    loop {
        let slot = slots.get(i)?;
        if !occupied(slot) {
            return None;
        }
        if matches(slot) {
            return Some(slot);
        }
        i = (i + 1) & mask;
    }
}

/// Puts one slot into a table, by linear probing from its hash's home slot.
fn place<S>(slots: &mut [S], hash: u64, slot: S, occupied: impl Fn(&S) -> bool) {
    let mask = slots.len() - 1;
    let mut i = hash as usize & mask;
    while occupied(&slots[i]) {
        i = (i + 1) & mask;
    }
    slots[i] = slot;
}

/// The seed among [`SEEDS`] candidates whose layout displaces fewest entries, with it.
fn settled<S: Copy + Default>(
    n: usize,
    slot_count: usize,
    key: impl Fn(usize, u64) -> (u64, S),
    occupied: impl Fn(&S) -> bool + Copy,
) -> (Vec<S>, u64) {
    let mut best: Option<(Vec<S>, usize, u64)> = None;
    for k in 0..SEEDS {
        let seed = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let (slots, displaced) = layout(n, slot_count, seed, &key, occupied);
        if best.as_ref().is_none_or(|b| displaced < b.1) {
            best = Some((slots, displaced, seed));
        }
        if displaced == 0 {
            break;
        }
    }
    best.map_or_else(|| (vec![S::default(); slot_count], 0), |(slots, _, seed)| (slots, seed))
}

fn slot_count(entries: usize) -> usize {
    (entries * LOAD_INVERSE).next_power_of_two().max(8)
}

impl<V: Copy + Default> NameIndex<V> {
    /// The value of a name.
    #[inline(always)]
    pub(crate) fn get(&self, name: &str) -> Option<&V> {
        let bytes = name.as_bytes();
        let word = pack(bytes);
        let hash = name_hash(bytes, word, self.seed);
        let tag = tag_of(bytes.len(), hash);
        let slot = find(&self.slots, hash, Self::occupied, |slot| {
            slot.tag == tag
                && if tag & 0xF == LONG {
                    self.entries.get(slot.word as usize).is_some_and(|e| same(e.0.as_bytes(), bytes))
                } else {
                    slot.word == word
                }
        });
        slot.map(|s| &s.value)
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
        let last = self.entries.len() - 1;
        if self.entries.len() * LOAD_INVERSE > self.slots.len() {
            let count = slot_count(self.entries.len());
            (self.slots, _) = layout(self.entries.len(), count, self.seed, |i, seed| self.key(i, seed), Self::occupied);
        } else {
            let (hash, slot) = self.key(last, self.seed);
            place(&mut self.slots, hash, slot, Self::occupied);
        }
        true
    }

    /// Lays the table out again with the seed that leaves fewest names out of their home
    /// slot: once every name is in, before the table serves checks.
    pub(crate) fn settle(&mut self) {
        let count = slot_count(self.entries.len());
        (self.slots, self.seed) = settled(self.entries.len(), count, |i, seed| self.key(i, seed), Self::occupied);
    }

    /// Entry `index`'s hash and slot under `seed`.
    fn key(&self, index: usize, seed: u64) -> (u64, Slot<V>) {
        let (name, value) = &self.entries[index];
        let bytes = name.as_bytes();
        let word = pack(bytes);
        let hash = name_hash(bytes, word, seed);
        let tag = tag_of(bytes.len(), hash);
        let word = if tag & 0xF == LONG { index as u64 } else { word };
        (hash, Slot { word, tag, value: *value })
    }

    fn occupied(slot: &Slot<V>) -> bool {
        slot.tag != 0
    }

    /// Heap bytes used.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot<V>>()
            + self.entries.iter().map(|(k, _)| k.len() + std::mem::size_of::<(Box<str>, V)>()).sum::<usize>()
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

/// The permission lookup of the check path: a (kind, action) pair of names to its
/// permission in one probe, where a kind lookup followed by a lookup in that kind's own
/// action table would chase two tables. Slots are 24 bytes and hold both packed names
/// ([`pack`]); pairs with a name over 8 bytes keep their entry's index and are compared in
/// full.
#[derive(Debug, Clone)]
pub(crate) struct PermIndex {
    entries: Vec<(Box<str>, Box<str>, PermId)>,
    /// A power of two at least four times the number of entries.
    slots: Vec<PairSlot>,
    seed: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct PairSlot {
    /// The packed kind name, or for a long pair its entry's index.
    kind: u64,
    /// The packed action name.
    action: u64,
    /// 0 for an empty slot; otherwise hash bits above both names' length classes.
    tag: u32,
    perm: PermId,
}

impl Default for PermIndex {
    fn default() -> Self {
        PermIndex { entries: Vec::new(), slots: vec![PairSlot::default(); 8], seed: 0 }
    }
}

/// The hash and tag of a (kind, action) pair; the tag's low byte holds both length classes.
#[inline(always)]
fn pair_key(kind: &[u8], kind_word: u64, action: &[u8], action_word: u64, seed: u64) -> (u64, u32) {
    let h =
        (name_hash(kind, kind_word, seed).rotate_left(29) ^ name_hash(action, action_word, seed)).wrapping_mul(SEED);
    let h = h ^ (h >> 32);
    let classes = (tag_of(kind.len(), 0) << 4) | tag_of(action.len(), 0);
    (h, ((h >> 32) as u32 & !0xFF) | classes)
}

/// Whether either length class in a pair's tag is [`LONG`].
#[inline(always)]
fn pair_is_long(tag: u32) -> bool {
    (tag >> 4) & 0xF == LONG || tag & 0xF == LONG
}

impl PermIndex {
    /// The permission `action` of resource kind `kind`.
    #[inline(always)]
    pub(crate) fn get(&self, kind: &str, action: &str) -> Option<PermId> {
        let (k, a) = (kind.as_bytes(), action.as_bytes());
        let (kw, aw) = (pack(k), pack(a));
        let (hash, tag) = pair_key(k, kw, a, aw, self.seed);
        let slot = find(
            &self.slots,
            hash,
            |s| s.tag != 0,
            |slot| {
                slot.tag == tag
                    && if pair_is_long(tag) {
                        self.entries
                            .get(slot.kind as usize)
                            .is_some_and(|e| same(e.0.as_bytes(), k) && same(e.1.as_bytes(), a))
                    } else {
                        slot.kind == kw && slot.action == aw
                    }
            },
        );
        slot.map(|s| s.perm)
    }

    /// Sets the pairs, laid out with the seed that displaces fewest.
    pub(crate) fn new(pairs: Vec<(Box<str>, Box<str>, PermId)>) -> PermIndex {
        let mut index = PermIndex { entries: pairs, slots: Vec::new(), seed: 0 };
        let count = slot_count(index.entries.len());
        (index.slots, index.seed) = settled(index.entries.len(), count, |i, seed| index.key(i, seed), |s| s.tag != 0);
        index
    }

    /// Entry `index`'s hash and slot under `seed`.
    fn key(&self, index: usize, seed: u64) -> (u64, PairSlot) {
        let (kind, action, perm) = &self.entries[index];
        let (k, a) = (kind.as_bytes(), action.as_bytes());
        let (kw, aw) = (pack(k), pack(a));
        let (hash, tag) = pair_key(k, kw, a, aw, seed);
        let (kw, aw) = if pair_is_long(tag) { (index as u64, 0) } else { (kw, aw) };
        (hash, PairSlot { kind: kw, action: aw, tag, perm: *perm })
    }

    /// Heap bytes used.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<PairSlot>()
            + self.entries.iter().map(|(k, a, _)| k.len() + a.len() + 40).sum::<usize>()
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
        // Every length up to three words, differing at every position.
        for n in 0..=24 {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
            assert!(same(&a, &a.clone()), "{n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] = b'#';
                assert!(!same(&a, &b), "{n} {at}");
            }
        }
    }

    #[test]
    fn grant_index_answers_every_pair_and_only_those() {
        // Dense and sparse pairs, so some runs of slots collide and wrap around the end.
        let mut entries = Vec::new();
        for r in 0..300u32 {
            for p in (0..40u32).filter(|p| (r * 7 + p * 3) % 5 != 0) {
                let held = match p % 4 {
                    0 => Held::Guarded,
                    1 => Held::GuardedBy(GrantId(r * 1000 + p)),
                    _ => Held::Plain(GrantId(r * 1000 + p)),
                };
                entries.push((RoleId(r), PermId(p), held));
            }
        }
        let index = GrantIndex::new(&entries, 300, 40);
        assert!(!index.held.is_empty(), "small enough for the bitset");
        let probing = GrantIndex::new(&entries, 300, 40_000);
        assert!(probing.held.is_empty(), "too many permissions for the bitset");
        for &(role, perm, held) in &entries {
            assert_eq!(probing.get(role, perm), Some(held), "{role:?} {perm:?}");
            assert_eq!(index.get(role, perm), Some(held), "{role:?} {perm:?}");
        }
        for r in 0..300u32 {
            for p in (0..40u32).filter(|p| (r * 7 + p * 3) % 5 == 0) {
                assert_eq!(index.get(RoleId(r), PermId(p)), None);
                assert_eq!(probing.get(RoleId(r), PermId(p)), None);
            }
            assert_eq!(index.get(RoleId(r), PermId(40)), None);
        }
        assert_eq!(index.get(RoleId(300), PermId(1)), None);
        assert_eq!(GrantIndex::new(&[], 0, 0).get(RoleId(0), PermId(0)), None, "an empty index has one empty slot");
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
    fn perm_index_finds_every_pair_and_only_those() {
        let kinds = ["mail", "k", "attachment-archive", "", "ab"];
        let actions = ["read", "a", "export-to-archive", "", "ba"];
        let mut pairs = Vec::new();
        for (k, kind) in kinds.iter().enumerate() {
            for (a, action) in actions.iter().enumerate().filter(|(a, _)| (a + k) % 3 != 0) {
                pairs.push((Box::from(*kind), Box::from(*action), PermId((k * 10 + a) as u32)));
            }
        }
        let index = PermIndex::new(pairs.clone());
        for (kind, action, perm) in &pairs {
            assert_eq!(index.get(kind, action), Some(*perm), "{kind}:{action}");
        }
        for (k, kind) in kinds.iter().enumerate() {
            for (_, action) in actions.iter().enumerate().filter(|(a, _)| (a + k) % 3 == 0) {
                assert_eq!(index.get(kind, action), None, "{kind}:{action}");
            }
        }
        // The names swapped, split differently, or differing in the middle of a long name.
        for (kind, action) in [("read", "mail"), ("mai", "lread"), ("mailr", "ead"), ("attachment-arXhive", "read")] {
            assert_eq!(index.get(kind, action), None, "{kind}:{action}");
        }
        assert_eq!(PermIndex::default().get("mail", "read"), None);
        assert_eq!(PermIndex::new(Vec::new()).get("", ""), None);
    }

    #[test]
    fn settling_keeps_every_name_and_puts_a_small_set_in_home_slots() {
        let mut index = NameIndex::default();
        let names: Vec<String> = (0..10).map(|i| format!("r{i}")).collect();
        for (i, n) in names.iter().enumerate() {
            index.insert(n, i);
        }
        index.settle();
        let (_, displaced) =
            layout(index.entries.len(), index.slots.len(), index.seed, |i, s| index.key(i, s), NameIndex::occupied);
        assert_eq!(displaced, 0, "one of {SEEDS} seeds places ten names in 64 slots without a collision");
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.get(n), Some(&i));
        }
        assert_eq!(index.get("r10"), None);
        // Names added after settling are still found.
        assert!(index.insert("late", 99));
        assert_eq!(index.get("late"), Some(&99));
        assert_eq!(index.get("r3"), Some(&3));
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
