//! Test and tool support. Where the shared test data lives: `$XMRD_SHARED`, else `../shared` beside the
//! checkout. Tests and benches that need it skip with a message when it is absent.

use std::path::PathBuf;

pub mod probe;
pub mod realpeer;

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

/// The rows of a three-column numeric CSV of `vectors/chain/` (header skipped), or `None`
/// (with the skip message) when the shared data is absent. Test support: panics on a
/// malformed file.
#[allow(clippy::unwrap_used)]
pub fn chain_csv3(name: &str) -> Option<Vec<(u64, u128, u64)>> {
    let dir = shared_subdir("vectors/chain")?;
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    Some(
        text.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                assert_eq!(f.len(), 3, "{name}: {l}");
                (
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                )
            })
            .collect(),
    )
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

/// Stops a child process as an operator would: SIGTERM (a graceful stop), then
/// SIGKILL if it has not exited within `grace`. Returns whether it stopped gracefully.
pub fn terminate(child: &mut std::process::Child, grace: std::time::Duration) -> bool {
    if let Ok(Some(_)) = child.try_wait() {
        return true;
    }
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .stderr(std::process::Stdio::null())
        .status();
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}
