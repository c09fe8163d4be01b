//! Writing a file whole: to a temporary sibling first, then renamed over the target, so readers
//! (a test polling `--addr-file`, a restart reading `--state`) never see half of it.

use std::path::Path;

use crate::ids;

/// Writes `bytes` to a sibling temporary file and renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "c1-sim".to_owned());
    let tmp = path.with_file_name(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        ids::random_base62(8)
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
