//! Policy source texts and the byte spans that point into them.

use std::fmt;

/// Identifies one source text (a policy file or an in-memory string) of a policy set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SourceId(pub(crate) u32);

impl SourceId {
    /// The position of this source in its [`Sources`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A byte range in one source text.
///
/// Spans compare equal to every other span, so that syntax trees parsed from
/// different files (or from the DSL and YAML forms) compare by meaning only.
/// Compare [`Span::range`] and [`Span::source`] to test a location.
#[derive(Clone, Copy, Default)]
pub struct Span {
    source: SourceId,
    start: u32,
    end: u32,
}

impl Span {
    /// A span of `start..end` bytes in `source`.
    pub fn new(source: SourceId, start: usize, end: usize) -> Span {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span { source, start: clamp(start), end: clamp(end.max(start)) }
    }

    /// The source this span points into.
    pub fn source(self) -> SourceId {
        self.source
    }

    /// The byte range of this span.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The smallest span covering both `self` and `other` (same source assumed).
    pub fn to(self, other: Span) -> Span {
        Span { source: self.source, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}..{}", self.source.0, self.start, self.end)
    }
}

/// A 1-based line and column (counted in characters) in a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column number, in characters.
    pub col: u32,
}

/// One named source text.
#[derive(Debug, Clone)]
pub struct Source {
    name: String,
    text: String,
    line_starts: Vec<u32>,
}

impl Source {
    fn new(name: String, text: String) -> Source {
        // Line ends as the grammar and YAML have them: `\n`, `\r\n`, or a lone `\r`.
        let bytes = text.as_bytes();
        let line_starts = std::iter::once(0)
            .chain(bytes.iter().enumerate().filter_map(|(i, b)| {
                let ends = *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
                ends.then(|| u32::try_from(i + 1).unwrap_or(u32::MAX))
            }))
            .collect();
        Source { name, text, line_starts }
    }

    /// The file name (or the name given to an in-memory source).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s as usize <= offset).max(1);
        let start = self.line_starts[line - 1] as usize;
        let col = self.text[start..offset].chars().count() + 1;
        LineCol { line: to_u32(line), col: to_u32(col) }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The source texts of a policy set, indexed by [`SourceId`].
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<Source>,
}

impl Sources {
    /// An empty set of sources.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Adds a source text and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> SourceId {
        let id = SourceId(to_u32(self.files.len()));
        self.files.push(Source::new(name.into(), text.into()));
        id
    }

    /// The source with this id.
    ///
    /// # Panics
    /// Never for an id returned by [`Sources::add`] on this value; other ids return the
    /// last source or an empty one.
    pub fn get(&self, id: SourceId) -> &Source {
        static EMPTY: std::sync::OnceLock<Source> = std::sync::OnceLock::new();
        self.files.get(id.index()).unwrap_or_else(|| EMPTY.get_or_init(|| Source::new(String::new(), String::new())))
    }

    /// Every source, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = (SourceId, &Source)> {
        self.files.iter().enumerate().map(|(i, s)| (SourceId(to_u32(i)), s))
    }

    /// The number of sources.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no sources.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// FNV-1a over every source's name and text, in order: it tells whether a policy set
    /// changed (it is not a cryptographic digest).
    pub fn content_hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for s in &self.files {
            for b in s.name.bytes().chain([0xff]).chain(s.text.bytes()).chain([0xfe]) {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }

    /// `file:line:col` of the start of a span.
    pub fn locate(&self, span: Span) -> Location {
        let source = self.get(span.source());
        Location { file: source.name().to_owned(), start: source.line_col(span.range().start) }
    }
}

/// A resolved position: file name, line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Location {
    /// The file name.
    pub file: String,
    /// Where the span starts.
    #[serde(flatten)]
    pub start: LineCol,
}

impl serde::Serialize for LineCol {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("LineCol", 2)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("column", &self.col)?;
        st.end()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.start.line, self.start.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(text: &str, offset: usize) -> (u32, u32) {
        let mut sources = Sources::new();
        let id = sources.add("t", text);
        let p = sources.get(id).line_col(offset);
        (p.line, p.col)
    }

    #[test]
    fn line_col_counts_characters_from_one() {
        assert_eq!(lc("ab\ncd", 0), (1, 1));
        assert_eq!(lc("ab\ncd", 2), (1, 3));
        assert_eq!(lc("ab\ncd", 3), (2, 1));
        assert_eq!(lc("é\nxé", 6), (2, 3));
        assert_eq!(lc("é\nxé", 5), (2, 2));
        assert_eq!(lc("ab", 99), (1, 3));
        assert_eq!(lc("a\rb", 2), (2, 1));
        assert_eq!(lc("a\r\nb", 3), (2, 1));
    }

    #[test]
    fn spans_compare_equal_regardless_of_position() {
        assert_eq!(Span::new(SourceId(0), 1, 2), Span::new(SourceId(3), 7, 9));
    }
}
