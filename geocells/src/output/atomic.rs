//! Atomic writes: a temporary file in the same directory, flushed and synced, then renamed over
//! the target, so a crash never leaves a half-written file.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::output::error::ExportError;

/// Writes `path` atomically: `write` fills a temporary file next to it, which is synced and
/// renamed over `path` only if `write` succeeds.
///
/// # Errors
/// [`ExportError::Io`] or [`ExportError::Encode`] naming `path`; the temporary file is removed.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), String>,
) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp).map_err(io)?;
        let mut w = BufWriter::new(file);
        write(&mut w).map_err(|message| ExportError::Encode {
            path: path.to_path_buf(),
            message,
        })?;
        let file = w.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
