//! Just enough Markdown for the tests: fenced code blocks, and links outside them.
//!
//! The book is plain CommonMark as mdBook reads it; the tests need only where code blocks start
//! and end (to compile the Rust ones and to skip their contents when looking for links) and the
//! link targets, so a line-based scan is enough and keeps the tests free of a Markdown parser.

use std::fs;
use std::path::{Path, PathBuf};

/// One page of the book's source.
pub struct Page {
    /// Path relative to `docs/src`, e.g. `exercises/01-create.md`.
    pub path: PathBuf,
    pub text: String,
}

/// A fenced code block: ```` ```info ```` … ```` ``` ````.
pub struct CodeBlock {
    /// The info string after the opening fence (`rust`, `rust,ignore`, `c`, `text`...).
    pub info: String,
    pub code: String,
    /// 1-based line of the opening fence, for error messages.
    pub line: usize,
}

impl CodeBlock {
    /// The language: the info string's first word (`rust` in `rust,no_run`).
    pub fn language(&self) -> &str {
        self.attributes().next().unwrap_or("")
    }

    /// The words of the info string, split as mdBook splits them (commas and spaces).
    pub fn attributes(&self) -> impl Iterator<Item = &str> {
        self.info
            .split([',', ' ', '\t'])
            .filter(|word| !word.is_empty())
    }
}

/// A link found in a page's text (outside code).
pub struct Link {
    pub target: String,
    pub line: usize,
}

/// Every `.md` file under `src`, with its path relative to `src`.
pub fn read_pages(src: &Path) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries =
            fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                let text = fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                let relative = path.strip_prefix(src).expect("under src").to_path_buf();
                pages.push(Page {
                    path: relative,
                    text,
                });
            }
        }
    }
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    pages
}

/// The fenced code blocks of a page, in order.
///
/// # Panics
/// On a block that is never closed: mdBook would swallow the rest of the page into it.
pub fn code_blocks(text: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, CodeBlock)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let fence = trimmed.chars().take_while(|&c| c == '`').count();
        match &mut open {
            None if fence >= 3 => {
                let info = trimmed[fence..].trim().to_string();
                open = Some((
                    fence,
                    CodeBlock {
                        info,
                        code: String::new(),
                        line: index + 1,
                    },
                ));
            }
            Some((width, _)) if fence >= *width && trimmed[fence..].trim().is_empty() => {
                blocks.push(open.take().expect("a block is open").1);
            }
            Some((_, block)) => {
                block.code.push_str(line);
                block.code.push('\n');
            }
            None => {}
        }
    }
    if let Some((_, block)) = open {
        panic!(
            "the code block opened on line {} is never closed",
            block.line
        );
    }
    blocks
}

/// The page's lines that are prose: code blocks blanked out (so line numbers stay right) and
/// inline code spans removed.
fn prose_lines(text: &str) -> Vec<String> {
    let mut in_block: Option<usize> = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let fence = trimmed.chars().take_while(|&c| c == '`').count();
        match in_block {
            None if fence >= 3 => {
                in_block = Some(fence);
                lines.push(String::new());
            }
            Some(width) => {
                if fence >= width && trimmed[fence..].trim().is_empty() {
                    in_block = None;
                }
                lines.push(String::new());
            }
            None => lines.push(without_code_spans(line)),
        }
    }
    lines
}

/// `line` with its `inline code` spans removed (links inside them are not links).
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + ticks..];
        let closing = "`".repeat(ticks);
        match after.find(&closing) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Links in a page's prose: inline `[text](target)` and reference definitions `[name]: target`.
pub fn links(text: &str) -> Vec<Link> {
    let mut found = Vec::new();
    for (index, line) in prose_lines(text).iter().enumerate() {
        let mut rest = line.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let end = after.find(')').unwrap_or(after.len());
            // `[text](target "title")`: the target is the first word.
            let target = after[..end].split_whitespace().next().unwrap_or("");
            found.push(Link {
                target: target.to_string(),
                line: index + 1,
            });
            rest = &after[end..];
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            && let Some(close) = trimmed.find("]:")
        {
            let target = trimmed[close + 2..].split_whitespace().next().unwrap_or("");
            found.push(Link {
                target: target.to_string(),
                line: index + 1,
            });
        }
    }
    found
}

/// A link to another page (or a place in one) of this book, as opposed to a web address.
pub fn is_internal(target: &str) -> bool {
    !(target.contains("://") || target.starts_with("mailto:"))
}

/// Splits `page.md#anchor` into the page part and the anchor (either may be empty).
pub fn split_anchor(target: &str) -> (&str, Option<&str>) {
    match target.split_once('#') {
        Some((page, anchor)) => (page, Some(anchor)),
        None => (target, None),
    }
}

/// The chapter files SUMMARY.md lists, in order (relative to `src`).
pub fn summary_chapters(summary: &str) -> Vec<PathBuf> {
    links(summary)
        .into_iter()
        .map(|link| link.target)
        .filter(|target| !target.is_empty())
        .map(PathBuf::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_and_their_info_strings() {
        let text = "intro\n```rust,ignore\nlet x = 1;\n```\n\n````text\n```\n````\n";
        let blocks = code_blocks(text);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].language(), "rust");
        assert!(blocks[0].attributes().any(|a| a == "ignore"));
        assert_eq!(blocks[0].code, "let x = 1;\n");
        assert_eq!(blocks[0].line, 2);
        assert_eq!(
            blocks[1].code, "```\n",
            "a longer fence contains shorter ones"
        );
    }

    #[test]
    fn links_skip_code() {
        let text = "see [a](a.md#x) and `[b](b.md)`\n```text\n[c](c.md)\n```\n[d]: d.md\n";
        let targets: Vec<_> = links(text)
            .into_iter()
            .map(|l| (l.target, l.line))
            .collect();
        assert_eq!(
            targets,
            [("a.md#x".to_string(), 1), ("d.md".to_string(), 5)]
        );
    }
}
