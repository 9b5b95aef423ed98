//! Code, string literals and comments: the lexical layer of the DSL, for the scans that
//! must not look inside strings or comments (the nesting limit before parsing, the
//! formatter's comments, what ends a statement, comments in YAML conditions).
//!
//! It follows the grammar: a string runs to its closing quote and a backslash escapes the
//! character after it; a comment runs from `#` to the end of its line; a line end (`\n`,
//! `\r\n` or a lone `\r`) ends a comment, and a string too (left unterminated, for the
//! parser to report).

/// One piece of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A character outside strings and comments, line ends included.
    Code(char),
    /// A string literal, quotes included; it ends before offset `end`.
    Str { end: usize },
    /// A comment, from `#` to its line end (not included), at offset `end`.
    Comment { end: usize },
}

fn is_line_end(c: char) -> bool {
    c == '\n' || c == '\r'
}

/// The pieces of `text`, each with the offset where it starts.
pub(crate) fn pieces(text: &str) -> impl Iterator<Item = (usize, Piece)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, c) = chars.next()?;
        let piece = match c {
            '"' => {
                let (mut end, mut escaped) = (text.len(), false);
                while let Some(&(i, c)) = chars.peek() {
                    if is_line_end(c) {
                        end = i;
                        break;
                    }
                    chars.next();
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        end = i + 1;
                        break;
                    }
                }
                Piece::Str { end }
            }
            '#' => {
                let end = text[start..].find(is_line_end).map_or(text.len(), |n| start + n);
                while chars.next_if(|&(i, _)| i < end).is_some() {}
                Piece::Comment { end }
            }
            c => Piece::Code(c),
        };
        Some((start, piece))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(usize, Piece)> {
        pieces(text).collect()
    }

    #[test]
    fn strings_and_comments_are_one_piece_each() {
        assert_eq!(
            kinds("a \"b # (\" # c \"\n!"),
            [
                (0, Piece::Code('a')),
                (1, Piece::Code(' ')),
                (2, Piece::Str { end: 9 }),
                (9, Piece::Code(' ')),
                (10, Piece::Comment { end: 15 }),
                (15, Piece::Code('\n')),
                (16, Piece::Code('!')),
            ]
        );
    }

    #[test]
    fn escapes_and_line_ends_end_strings_as_the_grammar_does() {
        // An escaped quote does not end the string; a line end does, unterminated.
        assert_eq!(kinds("\"a\\\"b\"x"), [(0, Piece::Str { end: 6 }), (6, Piece::Code('x'))]);
        assert_eq!(
            kinds("\"ab\\\n#"),
            [(0, Piece::Str { end: 4 }), (4, Piece::Code('\n')), (5, Piece::Comment { end: 6 })]
        );
        // A lone carriage return ends a comment; a string may run to the end of the text.
        assert_eq!(kinds("#x\ry"), [(0, Piece::Comment { end: 2 }), (2, Piece::Code('\r')), (3, Piece::Code('y'))]);
        assert_eq!(kinds("\"é"), [(0, Piece::Str { end: 3 })]);
        assert_eq!(kinds(""), []);
    }
}
