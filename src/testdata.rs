//! Where the shared test data lives: `$XMRD_SHARED`, else `../shared` beside the
//! checkout. Tests and benches that need it skip with a message when it is absent.

use std::path::PathBuf;

/// The shared data folder, if present.
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("XMRD_SHARED") {
        let p = PathBuf::from(p);
        return p.is_dir().then_some(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    p.is_dir().then_some(p)
}

/// A folder under the shared data, if present; prints why a test skips otherwise.
pub fn shared_subdir(rel: &str) -> Option<PathBuf> {
    let d = shared_dir().map(|d| d.join(rel)).filter(|d| d.is_dir());
    if d.is_none() {
        eprintln!("SKIP: shared test data `{rel}` not found (set XMRD_SHARED or place shared/ beside the checkout)");
    }
    d
}

/// The files of a shared folder ending in `ext`, sorted by name.
pub fn files_with_ext(dir: &std::path::Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
