//! Each exercise's spec, written once in `info.toml` and read here as constants: its key and
//! size (`key`, `size`: `spec::create::KEY`, `spec::guard::SIZE`) and what it prints (its
//! `[exercises.output]` table: `spec::create::CREATED`, `spec::sized::PROMPT`), with the helpers
//! that fill a text's placeholders and read them back.
//!
//! The checks use them, and so do the reference solutions' tests and the book's tests (a
//! dev-dependency on the grader), so a key or a line changed in `info.toml` changes everywhere
//! it is checked. The programs themselves (stubs, solutions) keep their literals: they are what
//! the spec checks. `cargo grade dev check` checks the `KEY` and `SIZE` constants that the stub
//! and the solution declare, and that the exercise's README states every output text
//! ([`unstated`]); the book's tests ask the same of each chapter's terminal sessions. Generated
//! by `grader/build.rs`; an exercise with no key, size or output in `info.toml` has no module.
//!
//! # Texts and placeholders
//!
//! A text is a line as the README shows it, with `{name}` where a value goes that only the run
//! knows (`Shared memory segment created with ID: {id}`). [`fill`] puts the values in;
//! [`value`] takes one back out of a printed line. Two placeholders never touch (a literal
//! separates them, so a printed line splits one way only). A placeholder that names another
//! entry of the same table stands for that text (`child 1 wrote: {question}`), and `{key}` for
//! the exercise's key in hexadecimal (`0x2706`, as the programs print `{KEY:#x}`): code fills
//! them like any other value, and [`unstated`] puts them in before it looks for a text.

use std::fmt::Display;

include!(concat!(env!("OUT_DIR"), "/exercise_spec.rs"));

/// `template` with each `{name}` of `values` replaced by its value.
///
/// ```
/// use grader::exercises::spec::{self, create};
///
/// assert_eq!(
///     spec::fill(create::CREATED, &[("id", &7)]),
///     "Shared memory segment created with ID: 7"
/// );
/// ```
pub fn fill(template: &str, values: &[(&str, &dyn Display)]) -> String {
    let mut filled = template.to_owned();
    for (name, value) in values {
        let placeholder = format!("{{{name}}}");
        debug_assert!(
            filled.contains(&placeholder),
            "{template:?} has no {placeholder}"
        );
        filled = filled.replace(&placeholder, &value.to_string());
    }
    filled
}

/// `{key}` of a text filled with `key` as the programs print it (`{KEY:#x}`: `0x2706`).
pub fn fill_key(template: &str, key: i32) -> String {
    fill(template, &[("key", &format_args!("{key:#x}"))])
}

/// What every line made from `template` starts with: the text before its first placeholder.
/// (A `const fn`, for constants made of texts.)
pub const fn prefix(template: &str) -> &str {
    let bytes = template.as_bytes();
    let mut end = 0;
    while end < bytes.len() && bytes[end] != b'{' {
        end += 1;
    }
    // `{` is one byte in UTF-8, so `end` is at a character's start.
    template.split_at(end).0
}

/// The value that `line` has where `template` has `{name}`, if `line` is `template` filled in
/// (each placeholder at least one character long).
///
/// ```
/// use grader::exercises::spec::{self, create};
///
/// let line = "Shared memory segment created with ID: 7";
/// assert_eq!(spec::value(create::CREATED, line, "id"), Some("7"));
/// assert_eq!(spec::value(create::CREATED, "Created: 7", "id"), None);
/// ```
pub fn value<'a>(template: &str, line: &'a str, name: &str) -> Option<&'a str> {
    let pieces = pieces(template);
    let values = find(&pieces, line, true)?;
    let placeholders = pieces.iter().filter_map(|piece| match piece {
        Piece::Placeholder(placeholder) => Some(*placeholder),
        Piece::Literal(_) => None,
    });
    placeholders
        .zip(values)
        .find_map(|(placeholder, value)| (placeholder == name).then_some(value))
}

/// The names of the entries of an `[exercises.output]` table (as read from an `info.toml`)
/// that no line of `prose` shows, so that a README or a chapter cannot drift from the spec.
///
/// A text is shown when a line holds it filled in: the other entries of the table and `{key}`
/// (the exercise's `key`, if it has one) put in, any other placeholder standing for any text
/// of one character or more. An integer entry is shown by its digits.
pub fn unstated(prose: &str, key: Option<i32>, output: &toml::Table) -> Vec<String> {
    let texts: Vec<(&str, String)> = output
        .iter()
        .map(|(name, value)| {
            let text = match value {
                toml::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name.as_str(), text)
        })
        .collect();
    texts
        .iter()
        .filter(|(_, text)| {
            let pieces_text = expanded(text, key, &texts);
            let pieces = pieces(&pieces_text);
            !prose
                .lines()
                .any(|line| find(&pieces, line, false).is_some())
        })
        .map(|(name, _)| (*name).to_owned())
        .collect()
}

/// `text` with the other entries' texts and the key put in for their placeholders (entries
/// that name entries too: a few rounds).
fn expanded(text: &str, key: Option<i32>, texts: &[(&str, String)]) -> String {
    let mut text = text.to_owned();
    for _ in 0..texts.len() {
        for (name, other) in texts {
            text = text.replace(&format!("{{{name}}}"), other);
        }
    }
    match key {
        Some(key) => text.replace("{key}", &format!("{key:#x}")),
        None => text,
    }
}

/// A text cut at its placeholders.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|close| open + close) else {
            break;
        };
        if open > 0 {
            pieces.push(Piece::Literal(&rest[..open]));
        }
        pieces.push(Piece::Placeholder(&rest[open + 1..close]));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest));
    }
    pieces
}

/// The placeholders' values where `line` holds the text of `pieces`: the whole line when
/// `whole`, else anywhere in it. Each value is one character or more; each literal is taken
/// at its first place after the one before (which finds a match wherever there is one).
fn find<'a>(pieces: &[Piece], line: &'a str, whole: bool) -> Option<Vec<&'a str>> {
    let mut values = Vec::new();
    let mut position = 0;
    let mut index = 0;
    if let Some(Piece::Literal(literal)) = pieces.first() {
        position = if whole {
            line.starts_with(literal).then_some(literal.len())?
        } else {
            line.find(literal)? + literal.len()
        };
        index = 1;
    }
    while let Some(piece) = pieces.get(index) {
        let Piece::Placeholder(_) = piece else {
            return None; // two literals in a row cannot come out of `pieces`
        };
        // The value takes at least the character at `position`.
        let after = position + line[position..].chars().next()?.len_utf8();
        match pieces.get(index + 1) {
            None => {
                values.push(&line[position..]);
                return Some(values);
            }
            Some(Piece::Literal(literal)) => {
                let last = index + 2 == pieces.len();
                let at = if whole && last {
                    let at = line.len().checked_sub(literal.len())?;
                    (at >= after && line.ends_with(literal)).then_some(at)?
                } else {
                    after + line[after..].find(literal)?
                };
                values.push(&line[position..at]);
                position = at + literal.len();
                index += 2;
            }
            Some(Piece::Placeholder(_)) => return None,
        }
    }
    (!whole || position == line.len()).then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_then_value_gives_the_values_back() {
        let template = "Segment ID {id} (key {key}): {size} bytes";
        let line = fill(template, &[("id", &3), ("size", &1024)]);
        let line = fill_key(&line, 9990);
        assert_eq!(line, "Segment ID 3 (key 0x2706): 1024 bytes");
        assert_eq!(value(template, &line, "id"), Some("3"));
        assert_eq!(value(template, &line, "key"), Some("0x2706"));
        assert_eq!(value(template, &line, "size"), Some("1024"));
        assert_eq!(value(template, &line, "nattch"), None);
        assert_eq!(prefix(template), "Segment ID ");
    }

    #[test]
    fn value_needs_the_whole_line_and_a_value_for_each_placeholder() {
        let template = "child 1 wrote: {question}";
        assert_eq!(
            value(template, "child 1 wrote: hi?", "question"),
            Some("hi?")
        );
        assert_eq!(value(template, "child 1 wrote: ", "question"), None);
        assert_eq!(value(template, "child 2 wrote: hi?", "question"), None);
        assert_eq!(value("ID: {id}.", "ID: 4. ", "id"), None);
        assert_eq!(value("ID: {id}.", "ID: 4..", "id"), Some("4."));
        assert_eq!(value("Read back", "Read back", "id"), None);
        assert_eq!(find(&pieces("Read back"), "Read back", true), Some(vec![]));
        assert_eq!(find(&pieces("Read back"), "Read back!", true), None);
    }

    #[test]
    fn a_text_is_stated_when_a_line_shows_it_filled_in() {
        let output: toml::Table = toml::from_str(
            r#"
            value = 37892
            question = "Is this ID: {id}?"
            wrote = "child 1 wrote: {question}"
            missing = "error: shmget (key {key}): no segment"
            "#,
        )
        .expect("a table");
        let prose = "$ cargo run -p demo\nchild 1 wrote: Is this ID: 0?\n\
                     error: shmget (key 0x2706): no segment\nit writes 37892\n";
        assert_eq!(unstated(prose, Some(9990), &output), Vec::<String>::new());
        // Another key, a line cut short, a value left out: each names its entry.
        assert_eq!(unstated(prose, Some(9991), &output), ["missing"]);
        let prose = prose.replace("Is this ID: 0?", "Is this ID: ?");
        assert_eq!(unstated(&prose, Some(9990), &output), ["question", "wrote"]);
        assert_eq!(unstated("", None, &output).len(), 4);
    }

    #[test]
    fn the_generated_constants_are_info_tomls_texts() {
        assert_eq!(create::KEY, 9990);
        assert!(create::CREATED.ends_with("{id}"));
        assert_eq!(parent_child::VALUE, 37892);
        assert_eq!(prefix(ping_pong::CHILD_1_WROTE), "child 1 wrote: ");
    }
}
