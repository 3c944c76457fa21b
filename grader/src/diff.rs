//! A small line diff, for showing expected against actual output.
//!
//! Outputs graded here are a few lines long, so the textbook longest-common-subsequence table
//! is plenty (inputs are capped to keep it small whatever a program prints).

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Same(&'a str),
    /// Expected, missing from the actual output.
    Missing(&'a str),
    /// In the actual output, not expected.
    Extra(&'a str),
}

/// Longest inputs compared line by line; past this, the rest is compared as a block.
const MAX_LINES: usize = 200;

/// The lines of `expected` and `actual`, aligned: the first `MAX_LINES` (200) of each line by
/// line, the rest as a block (all same, or all of one missing and all of the other extra), so
/// that a difference past the limit still shows.
pub fn diff<'a>(expected: &'a str, actual: &'a str) -> Vec<Line<'a>> {
    let (old_rest, new_rest): (Vec<&str>, Vec<&str>) = (
        expected.lines().skip(MAX_LINES).collect(),
        actual.lines().skip(MAX_LINES).collect(),
    );
    let mut lines = diff_lines(expected, actual);
    if old_rest == new_rest {
        lines.extend(old_rest.into_iter().map(Line::Same));
    } else {
        lines.extend(old_rest.into_iter().map(Line::Missing));
        lines.extend(new_rest.into_iter().map(Line::Extra));
    }
    lines
}

/// The first [`MAX_LINES`] lines of each, aligned by their longest common subsequence.
fn diff_lines<'a>(expected: &'a str, actual: &'a str) -> Vec<Line<'a>> {
    let old: Vec<&str> = expected.lines().take(MAX_LINES).collect();
    let new: Vec<&str> = actual.lines().take(MAX_LINES).collect();
    // common[i][j]: length of the longest common subsequence of old[i..] and new[j..].
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut lines = Vec::new();
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            lines.push(Line::Same(old[i]));
            i += 1;
            j += 1;
        } else if j < new.len() && (i == old.len() || common[i][j + 1] >= common[i + 1][j]) {
            lines.push(Line::Extra(new[j]));
            j += 1;
        } else {
            lines.push(Line::Missing(old[i]));
            i += 1;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapped_lines_show_as_one_missing_and_one_extra() {
        let lines = diff("child: 1\nparent: 1", "parent: 1\nchild: 1");
        assert_eq!(
            lines,
            [
                Line::Extra("parent: 1"),
                Line::Same("child: 1"),
                Line::Missing("parent: 1")
            ]
        );
    }

    #[test]
    fn a_difference_past_the_line_by_line_limit_still_shows() {
        let head = "same\n".repeat(MAX_LINES);
        let expected = format!("{head}a\nz");
        let actual = format!("{head}b\nz");
        let lines = diff(&expected, &actual);
        assert_eq!(lines.len(), MAX_LINES + 4);
        assert_eq!(
            lines[MAX_LINES..],
            [
                Line::Missing("a"),
                Line::Missing("z"),
                Line::Extra("b"),
                Line::Extra("z")
            ]
        );
        let equal = diff(&expected, &expected);
        assert!(equal.iter().all(|line| matches!(line, Line::Same(_))));
        assert_eq!(equal.len(), MAX_LINES + 2);
    }

    #[test]
    fn equal_texts_are_all_same() {
        assert_eq!(diff("a\nb", "a\nb"), [Line::Same("a"), Line::Same("b")]);
        assert_eq!(diff("", "x"), [Line::Extra("x")]);
    }
}
