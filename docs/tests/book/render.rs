//! Building the book with mdBook's library, once per test run, into a temporary directory.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mdbook_driver::MDBook;

/// The rendered book: its HTML directory (kept for the whole test run).
pub struct Rendered {
    dir: tempfile::TempDir,
}

impl Rendered {
    /// The HTML file mdBook makes for a chapter (`exercises/01-create.md` -> `.html`).
    pub fn html_path(&self, chapter: &Path) -> PathBuf {
        self.dir.path().join(chapter.with_extension("html"))
    }

    /// The `id="…"` attributes of a rendered chapter: the anchors a link may point at.
    pub fn anchors(&self, chapter: &Path) -> BTreeSet<String> {
        let path = self.html_path(chapter);
        let html =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        html.split(" id=\"")
            .skip(1)
            .filter_map(|rest| rest.split_once('"').map(|(id, _)| id.to_string()))
            .collect()
    }
}

/// Builds the book once (later calls share the result), in-process with mdBook's own library
/// (`mdbook-driver`, a dev-dependency: no `mdbook` binary to install); panics with mdBook's
/// error on failure.
pub fn book(docs: &Path) -> &'static Rendered {
    static BOOK: OnceLock<Rendered> = OnceLock::new();
    BOOK.get_or_init(|| {
        let dir = tempfile::tempdir().expect("creating a directory for the rendered book");
        let mut book = MDBook::load(docs)
            .unwrap_or_else(|e| panic!("loading the book in {}: {e:#}", docs.display()));
        book.config.build.build_dir = dir.path().to_path_buf();
        book.build()
            .unwrap_or_else(|e| panic!("building the book (as mdbook build would): {e:#}"));
        Rendered { dir }
    })
}
