//! Building the book with mdBook, once per test run, into a temporary directory.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

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

/// Builds the book once (later calls share the result); panics with mdBook's output on failure.
pub fn book(docs: &Path) -> &'static Rendered {
    static BOOK: OnceLock<Rendered> = OnceLock::new();
    BOOK.get_or_init(|| {
        let dir = tempfile::tempdir().expect("creating a directory for the rendered book");
        let mdbook = mdbook();
        let output = Command::new(&mdbook)
            .arg("build")
            .arg(docs)
            .arg("--dest-dir")
            .arg(dir.path())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "running {}: {e}\nThe book tests need mdBook: cargo install mdbook --locked \
                     --no-default-features (or set MDBOOK to its path)",
                    mdbook.display()
                )
            });
        assert!(
            output.status.success(),
            "mdbook build failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Rendered { dir }
    })
}

/// Where mdBook is: `$MDBOOK`, else on the `PATH`, else where `cargo install` puts it.
fn mdbook() -> PathBuf {
    if let Some(path) = std::env::var_os("MDBOOK") {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("mdbook"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    on_path
        .into_iter()
        .chain(cargo_home.map(|home| home.join("bin/mdbook")))
        .find(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("mdbook"))
}
