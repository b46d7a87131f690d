//! The output directory as one unit: a run's files are written into a fresh staging
//! directory beside the target and swapped in as the last step, under a lock, so that a reader
//! of `--out` sees an earlier complete run or the new complete run, never a mix.
//!
//! The sequence ([`OutputDir::prepare`], then [`OutputDir::commit`]):
//! 1. **Check the location** before any input is read: the target is a directory (or does not
//!    exist yet) that is empty or holds only files a geocells run writes ([`RUN_FILES`]); any
//!    other file is refused by name, because a run replaces the whole directory.
//! 2. **Lock**: an exclusive OS file lock (`flock`) on `.<name>.lock` beside the target. A
//!    second run on the same target is refused while the first holds it; the kernel releases it
//!    when a process dies, so a killed run never leaves it stuck.
//! 3. **Clean up** what killed runs left beside the target: `.<name>.staging-<pid>` directories
//!    (a run killed while writing) are removed; a `.<name>.old-<pid>` directory (a run killed
//!    between the two renames of the swap) is put back when the target is missing, else removed.
//! 4. **Stage**: every file goes into `.<name>.staging-<pid>` (same file system, so the renames
//!    below are atomic), each written to a temporary name, synced and renamed.
//! 5. **Swap**: the staging directory is synced; the old target is renamed to
//!    `.<name>.old-<pid>`, the staging directory to the target, the parent directory is synced
//!    and the old run removed. POSIX has no atomic exchange of two non-empty directories
//!    (Linux's `renameat2(RENAME_EXCHANGE)` needs `unsafe`, which this crate forbids), so
//!    between the two renames the target is briefly absent: a reader then finds no directory,
//!    never a mixed one, and a run killed exactly there is undone by step 3 of the next run.
//!
//! Every file of a run carries the same run id ([`run_id`], in `report.json`, in the Parquet
//! key-value metadata under [`RUN_ID_KEY`], and in the GeoJSON, QML, PNG and Markdown files),
//! and `report.json`, written last, lists every file with its size and SHA-256. [`check`]
//! verifies a directory against that manifest (`build_cells --check-output DIR`).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

/// The files a `build_cells` run writes; an output directory holds these and nothing else.
pub const RUN_FILES: [&str; 9] = [
    "cells.parquet",
    "cells.geojson",
    "cells.qml",
    "points.parquet",
    "targets.parquet",
    "rejects.parquet",
    "map.png",
    "report.md",
    "report.json",
];

/// The Parquet key-value metadata key (and GeoJSON member, PNG text keyword) of the run id.
pub const RUN_ID_KEY: &str = "geocells:run_id";

/// A test hook called at named moments of the output sequence (after each file is staged:
/// its file name; `"lock"` once the lock is held; `"swap"` between the two renames of the
/// swap). Returning `Err` makes the write fail as an I/O error would. Fault tests use it to
/// pause a child process (which they kill) or to inject a write error.
pub type Hook = fn(&str) -> Result<(), String>;

/// Errors of the output directory.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The target exists and is not a directory.
    #[error(
        "{path}: exists and is not a directory; the output must be a directory (new, empty, or holding an earlier geocells run)"
    )]
    NotADirectory {
        /// The target.
        path: PathBuf,
    },
    /// The target cannot be an output directory (a root, `.` or `..`).
    #[error("{path}: cannot be an output directory: {reason}")]
    BadTarget {
        /// The target as given.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// The target holds files that a run did not write.
    #[error(
        "{path}: holds files geocells did not write ({files}); a run replaces the whole directory, so choose a new or empty directory, or move these away"
    )]
    Foreign {
        /// The target.
        path: PathBuf,
        /// Some of the foreign names, comma-separated.
        files: String,
    },
    /// Another run holds the lock.
    #[error(
        "{path}: another geocells run ({holder}) is writing this output; wait for it to finish or choose another output (lock: {lock})"
    )]
    Busy {
        /// The target.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// Who holds it, as far as the lock file says.
        holder: String,
    },
    /// A file system error.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The [`Hook`] failed the write.
    #[error("{path}: {message}")]
    Injected {
        /// Where.
        path: PathBuf,
        /// The hook's message.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A locked output location with its staging directory; see the module docs.
/// Dropping it without [`OutputDir::commit`] removes the staging directory and leaves the
/// target as it was.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    name: String,
    parent: PathBuf,
    // Held for the lifetime of the value: the OS lock.
    _lock: File,
    hook: Option<Hook>,
    committed: bool,
    recovered: Vec<String>,
}

/// Is `name` a file of a run, or a temporary file of one ([`crate::output::atomic::write_atomic`])?
fn is_run_file(name: &str) -> bool {
    RUN_FILES.contains(&name)
        || name
            .strip_prefix('.')
            .and_then(|n| n.split_once(".tmp-"))
            .is_some_and(|(f, _)| RUN_FILES.contains(&f))
}

/// Is the entry of an output directory one a `build_cells` run writes (a regular file of
/// [`RUN_FILES`], or a temporary file of one)?
fn is_run_entry(e: &fs::DirEntry) -> bool {
    e.file_type().is_ok_and(|t| t.is_file()) && is_run_file(&e.file_name().to_string_lossy())
}

/// The names in `dir` that the writer does not write (`own` says which it does; sorted), or
/// an error.
fn foreign_files(dir: &Path, own: fn(&fs::DirEntry) -> bool) -> Result<Vec<String>, OutputError> {
    let mut foreign = Vec::new();
    for e in fs::read_dir(dir).map_err(io_err(dir))? {
        let e = e.map_err(io_err(dir))?;
        if !own(&e) {
            foreign.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    foreign.sort();
    Ok(foreign)
}

impl OutputDir {
    /// Checks `target`, takes its lock, cleans up after killed runs and creates a fresh
    /// staging directory. Call it before reading any input, so that a bad location or a
    /// concurrent run is reported at once.
    ///
    /// # Errors
    /// [`OutputError::NotADirectory`], [`OutputError::BadTarget`], [`OutputError::Foreign`],
    /// [`OutputError::Busy`], or [`OutputError::Io`] naming the path.
    pub fn prepare(target: &Path) -> Result<Self, OutputError> {
        Self::prepare_with(target, None)
    }

    /// [`OutputDir::prepare`] with a test [`Hook`].
    ///
    /// # Errors
    /// As [`OutputDir::prepare`].
    pub fn prepare_with(target: &Path, hook: Option<Hook>) -> Result<Self, OutputError> {
        Self::prepare_owned(target, hook, is_run_entry)
    }

    /// [`OutputDir::prepare_with`] for a directory of another layout: `own` says which entries
    /// of an existing target its writer made (anything else is refused by name).
    ///
    /// # Errors
    /// As [`OutputDir::prepare`].
    pub(crate) fn prepare_owned(
        target: &Path,
        hook: Option<Hook>,
        own: fn(&fs::DirEntry) -> bool,
    ) -> Result<Self, OutputError> {
        let bad = |reason| OutputError::BadTarget {
            path: target.to_path_buf(),
            reason,
        };
        if !target.exists() {
            target
                .file_name()
                .ok_or_else(|| bad("it names no directory"))?;
            let parent = parent_of(target);
            fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        }
        // Resolve symbolic links and `..`, so the swap happens where the files really are.
        let resolved = resolve(target).map_err(io_err(target))?;
        let name = resolved
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| bad("it is a root directory"))?;
        let parent = resolved
            .parent()
            .ok_or_else(|| bad("it is a root directory"))?
            .to_path_buf();
        if resolved.exists() {
            if !resolved.is_dir() {
                return Err(OutputError::NotADirectory {
                    path: target.to_path_buf(),
                });
            }
            let foreign = foreign_files(&resolved, own)?;
            if !foreign.is_empty() {
                let mut files: Vec<String> = foreign.iter().take(5).cloned().collect();
                if foreign.len() > 5 {
                    files.push(format!("and {} more", foreign.len() - 5));
                }
                return Err(OutputError::Foreign {
                    path: target.to_path_buf(),
                    files: files.join(", "),
                });
            }
        }
        let lock = take_lock(&parent, &name, target)?;
        let mut out = Self {
            staging: parent.join(format!(".{name}.staging-{}", std::process::id())),
            target: resolved,
            name,
            parent,
            _lock: lock,
            hook,
            committed: false,
            recovered: Vec::new(),
        };
        out.checkpoint("lock")?;
        out.recover()?;
        fs::create_dir(&out.staging).map_err(io_err(&out.staging))?;
        Ok(out)
    }

    /// Step 3 of the module docs: removes staging directories of killed runs and puts back an
    /// old run a killed swap left aside.
    fn recover(&mut self) -> Result<(), OutputError> {
        for (path, kind) in leftovers(&self.parent, &self.name)? {
            if kind == Leftover::Old && !self.target.exists() {
                fs::rename(&path, &self.target).map_err(io_err(&path))?;
                self.recovered.push(format!(
                    "restored the previous run from {} (a run was killed while swapping)",
                    path.display()
                ));
            } else {
                fs::remove_dir_all(&path).map_err(io_err(&path))?;
                self.recovered
                    .push(format!("removed {} left by a killed run", path.display()));
            }
        }
        Ok(())
    }

    /// The directory to write the files into.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The output directory (resolved: absolute, symbolic links followed).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// What [`OutputDir::prepare`] cleaned up after killed runs, one sentence each.
    pub fn recovered(&self) -> &[String] {
        &self.recovered
    }

    /// Calls the test [`Hook`] (if any) at `stage`.
    ///
    /// # Errors
    /// [`OutputError::Injected`] when the hook fails.
    pub fn checkpoint(&self, stage: &str) -> Result<(), OutputError> {
        match self.hook {
            Some(h) => h(stage).map_err(|message| OutputError::Injected {
                path: self.staging.join(stage),
                message,
            }),
            None => Ok(()),
        }
    }

    /// Swaps the staging directory in as the target (step 5 of the module docs) and returns
    /// the target.
    ///
    /// # Errors
    /// [`OutputError::Io`] naming the path; the target then still holds the earlier run.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        sync_dir(&self.staging)?;
        if self.target.exists() {
            let old = self
                .parent
                .join(format!(".{}.old-{}", self.name, std::process::id()));
            fs::rename(&self.target, &old).map_err(io_err(&self.target))?;
            if let Err(e) = self.checkpoint("swap").and_then(|()| {
                fs::rename(&self.staging, &self.target).map_err(io_err(&self.staging))
            }) {
                // Put the earlier run back; the staging directory goes with `self`.
                let _ = fs::rename(&old, &self.target);
                return Err(e);
            }
            self.committed = true;
            sync_dir(&self.parent)?;
            fs::remove_dir_all(&old).map_err(io_err(&old))?;
        } else {
            fs::rename(&self.staging, &self.target).map_err(io_err(&self.staging))?;
            self.committed = true;
            sync_dir(&self.parent)?;
        }
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Cleans up after killed runs beside `target` (step 3 of the module docs) when no run is
/// writing it: removes staging directories, puts back an earlier run a killed swap left aside.
/// Returns what it did, one sentence each.
///
/// # Errors
/// [`OutputError::Busy`] while a run writes `target` (which then still holds the earlier
/// complete run), [`OutputError::Io`].
pub fn recover(target: &Path) -> Result<Vec<String>, OutputError> {
    let Ok(resolved) = resolve(target) else {
        return Ok(Vec::new());
    };
    let (Some(parent), Some(name)) = (resolved.parent(), resolved.file_name()) else {
        return Ok(Vec::new());
    };
    let name = name.to_string_lossy().into_owned();
    if leftovers(parent, &name)?.is_empty() {
        return Ok(Vec::new());
    }
    let lock = take_lock(parent, &name, target)?;
    let mut out = OutputDir {
        target: resolved.clone(),
        staging: PathBuf::new(),
        name,
        parent: parent.to_path_buf(),
        _lock: lock,
        hook: None,
        committed: true,
        recovered: Vec::new(),
    };
    out.recover()?;
    Ok(std::mem::take(&mut out.recovered))
}

/// Takes the exclusive lock `parent/.<name>.lock` of the output `target` (see the module
/// docs), writing this process's id into it for the message of a refused run.
fn take_lock(parent: &Path, name: &str, target: &Path) -> Result<File, OutputError> {
    let lock_path = parent.join(format!(".{name}.lock"));
    let mut lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(io_err(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = lock.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(OutputError::Busy {
                path: target.to_path_buf(),
                lock: lock_path,
                holder: if holder.is_empty() {
                    "process unknown".into()
                } else {
                    holder.to_string()
                },
            });
        }
        Err(TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
    }
    let _ = lock.set_len(0);
    let _ = write!(lock, "pid {}", std::process::id());
    Ok(lock)
}

/// A locked output file with its companion `<stem>_rejects.parquet` (`assign_cells`): the
/// lock of [`OutputDir`], for a pair of files instead of a directory. Both files are written
/// atomically, the rejects first, and both carry the same run id, so a pair from two runs is
/// detected by [`check_assigned`].
#[derive(Debug)]
pub struct OutputFile {
    target: PathBuf,
    rejects: PathBuf,
    _lock: File,
}

impl OutputFile {
    /// Checks `target` (not a directory; its directory is created) and takes its lock.
    ///
    /// # Errors
    /// [`OutputError::BadTarget`] when `target` is a directory or names none,
    /// [`OutputError::Busy`] when another run writes it, [`OutputError::Io`].
    pub fn prepare(target: &Path) -> Result<Self, OutputError> {
        let bad = |reason| OutputError::BadTarget {
            path: target.to_path_buf(),
            reason,
        };
        if target.is_dir() {
            return Err(bad(
                "it is a directory; give a file name such as val_cells.parquet",
            ));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| bad("it names no file"))?;
        let parent = parent_of(target);
        fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let stem = target
            .file_stem()
            .map_or_else(|| name.clone(), |s| s.to_string_lossy().into_owned());
        Ok(Self {
            rejects: target.with_file_name(format!("{stem}_rejects.parquet")),
            _lock: take_lock(&parent, &name, target)?,
            target: target.to_path_buf(),
        })
    }

    /// The output file.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Its companion `<stem>_rejects.parquet`.
    pub fn rejects(&self) -> &Path {
        &self.rejects
    }
}

/// Checks a pair written through [`OutputFile`]: both files there, the same run id in both,
/// and labelled + rejected rows = the input rows recorded in both.
///
/// # Errors
/// None in practice: everything found wrong is in [`OutputCheck::problems`].
pub fn check_assigned(target: &Path) -> Result<OutputCheck, OutputError> {
    let mut c = OutputCheck {
        dir: target.to_path_buf(),
        ..OutputCheck::default()
    };
    let stem = target
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rejects = target.with_file_name(format!("{stem}_rejects.parquet"));
    let mut ids = Vec::new();
    let mut total = 0;
    let mut input_rows = Vec::new();
    for path in [target, rejects.as_path()] {
        let name = path.display().to_string();
        match parquet_stamp_kv(path) {
            Ok((id, n, rows)) => {
                c.files
                    .push((name, fs::metadata(path).map_or(0, |m| m.len()), Some(n)));
                ids.push(id);
                total += n;
                input_rows.push(rows);
            }
            Err(e) => c
                .problems
                .push(format!("{name}: missing or unreadable: {e}")),
        }
    }
    if c.problems.is_empty() {
        c.run_id.clone_from(&ids[0]);
        if ids[0].is_none() || ids[0] != ids[1] {
            c.problems.push(format!(
                "the two files carry different run ids ({} and {}): they come from different runs",
                ids[0].as_deref().unwrap_or("(none)"),
                ids[1].as_deref().unwrap_or("(none)")
            ));
        } else if input_rows[0] != Some(total) {
            c.problems.push(format!(
                "{total} rows labelled + rejected, but the input had {}",
                input_rows[0].map_or("(unknown)".into(), |n| n.to_string())
            ));
        } else {
            c.status = Some("complete".into());
        }
    }
    Ok(c)
}

/// The Parquet key-value metadata key of the number of input rows (`assign_cells`).
pub const INPUT_ROWS_KEY: &str = "geocells:input_rows";

fn parquet_stamp_kv(path: &Path) -> Result<(Option<String>, u64, Option<u64>), String> {
    let (rows, kv) = crate::input::files::parquet_footer(path)?;
    let get = |key: &str| kv.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    Ok((
        get(RUN_ID_KEY),
        rows,
        get(INPUT_ROWS_KEY).and_then(|v| v.parse().ok()),
    ))
}

/// The directory `target` is in (`.` for a bare name).
fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `target` made absolute with symbolic links and `..` resolved: itself when it exists, else
/// its (existing) parent's resolved path joined with its name.
fn resolve(target: &Path) -> std::io::Result<PathBuf> {
    if target.exists() {
        return fs::canonicalize(target);
    }
    let name = target.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    Ok(fs::canonicalize(parent_of(target))?.join(name))
}

fn sync_dir(dir: &Path) -> Result<(), OutputError> {
    // Directories can be opened and synced on Unix; elsewhere this is best effort.
    match File::open(dir) {
        Ok(f) => match f.sync_all() {
            Ok(()) => Ok(()),
            Err(e) if cfg!(unix) => Err(io_err(dir)(e)),
            Err(_) => Ok(()),
        },
        Err(e) if cfg!(unix) => Err(io_err(dir)(e)),
        Err(_) => Ok(()),
    }
}

/// What a killed run left beside an output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Leftover {
    /// `.<name>.staging-<pid>`: a run killed while writing.
    Staging,
    /// `.<name>.old-<pid>`: a run killed between the two renames of the swap.
    Old,
}

/// Leftovers of killed runs beside `parent/name`, sorted by path.
fn leftovers(parent: &Path, name: &str) -> Result<Vec<(PathBuf, Leftover)>, OutputError> {
    let staging = format!(".{name}.staging-");
    let old = format!(".{name}.old-");
    let mut found = Vec::new();
    for e in fs::read_dir(parent).map_err(io_err(parent))? {
        let e = e.map_err(io_err(parent))?;
        let n = e.file_name().to_string_lossy().into_owned();
        let kind = if n.starts_with(&staging) {
            Leftover::Staging
        } else if n.starts_with(&old) {
            Leftover::Old
        } else {
            continue;
        };
        found.push((e.path(), kind));
    }
    found.sort();
    Ok(found)
}

/// Hex digits of a run id ([`run_id`]).
const RUN_ID_HEX: usize = 16;

/// The run id: the first 16 hex digits of the SHA-256 of what determines a run's outputs
/// (the crate version, the parameters, the inputs' SHA-256 and column options, and the export
/// options). Deterministic, so that identical runs, whose files are byte-identical, share it;
/// any change of input or setting gives another one.
pub fn run_id(report: &serde_json::Value, export: &serde_json::Value) -> String {
    let inputs: Vec<serde_json::Value> = report["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| serde_json::json!([i["role"], i["sha256"], i["columns"]]))
        .collect();
    let key = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "params": report["params"],
        "inputs": inputs,
        "export": export,
    });
    let digest = Sha256::digest(key.to_string().as_bytes());
    digest
        .iter()
        .take(RUN_ID_HEX / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The run id of an assignment (`assign_cells`: new points labelled with an existing run's
/// cells), made like [`run_id`] from the crate version, the SHA-256 of the cells file and of
/// the points file, and the column options (longitude, latitude, id; `None`: detected).
pub fn assignment_run_id(cells: &Path, points: &Path, columns: [Option<&str>; 3]) -> String {
    let key = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "cells": crate::input::files::file_sha256(cells),
        "points": crate::input::files::file_sha256(points),
        "columns": columns,
    });
    run_id(&serde_json::json!({}), &key)
}

/// SHA-256 (hex) and size of a file.
pub fn file_digest(path: &Path) -> Result<(String, u64), OutputError> {
    let mut f = File::open(path).map_err(io_err(path))?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h).map_err(io_err(path))?;
    Ok((format!("{:x}", h.finalize()), n))
}

/// What [`check`] found in an output directory.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct OutputCheck {
    /// The directory.
    pub dir: PathBuf,
    /// The run id in `report.json`, if readable.
    pub run_id: Option<String>,
    /// `report.json`'s `status`: `complete`, or `failed` for a run that wrote its rejects but
    /// could label no point.
    pub status: Option<String>,
    /// Files checked against the manifest: name, bytes, rows (Parquet).
    pub files: Vec<(String, u64, Option<u64>)>,
    /// `report.json`'s `validation.ok` (the partition check of the run), if it ran.
    pub validation_ok: Option<bool>,
    /// Everything wrong, one sentence each; empty when the directory is one complete run.
    pub problems: Vec<String>,
    /// Leftovers of killed runs beside the directory (removed by the next run).
    pub leftovers: Vec<PathBuf>,
}

impl OutputCheck {
    /// Is the directory one complete, consistent run (of either status)?
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Reads the run id that follows [`RUN_ID_KEY`] in the first 64 KiB of a text or PNG file.
fn embedded_run_id(path: &Path) -> Option<String> {
    let mut head = Vec::with_capacity(1 << 16);
    File::open(path)
        .ok()?
        .take(1 << 16)
        .read_to_end(&mut head)
        .ok()?;
    let key = RUN_ID_KEY.as_bytes();
    let at = head.windows(key.len()).position(|w| w == key)? + key.len();
    let rest = head.get(at..)?;
    let start = rest.iter().position(u8::is_ascii_hexdigit)?;
    if start > 4 {
        return None;
    }
    // A run id has exactly RUN_ID_HEX digits; in a PNG the chunk's CRC follows the text and
    // may begin with a byte that reads as a hex digit.
    let id: String = rest[start..]
        .iter()
        .take(RUN_ID_HEX)
        .take_while(|b| b.is_ascii_hexdigit())
        .map(|&b| char::from(b))
        .collect();
    Some(id)
}

/// Run id (key-value metadata) and row count of a Parquet file.
fn parquet_stamp(path: &Path) -> Result<(Option<String>, u64), String> {
    parquet_stamp_kv(path).map(|(id, n, _)| (id, n))
}

/// An integer column of a Parquet file.
fn i64_column(path: &Path, name: &str) -> Result<Vec<i64>, String> {
    let df = crate::input::files::read_parquet_columns(path, &[name.to_string()])
        .map_err(|e| e.to_string())?;
    let col = df.column(name).map_err(|e| e.to_string())?;
    let ca = col.i64().map_err(|e| e.to_string())?;
    Ok(ca.iter().map(|v| v.unwrap_or(-1)).collect())
}

/// Checks that `dir` holds one complete run: `report.json` is there and names a run id and a
/// manifest; every file of the manifest is there with its size and SHA-256, no other file is;
/// every file carries the run id; the row counts of the Parquet files match the report's
/// counts (labelled + rejected = input rows, but in a run restricted to some countries);
/// `cells.parquet` numbers its cells `0..K-1` and
/// every point and target names one of them. Also lists leftovers of killed runs beside `dir`.
///
/// Reads every file once (SHA-256) and three integer columns: about a second per 10 million
/// points.
///
/// ```
/// // A directory no run wrote is not a run's output.
/// let dir = std::env::temp_dir().join(format!("geocells-check-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("notes.txt"), "mine")?;
/// let check = geocells::check_output(&dir)?;
/// assert!(check.run_id.is_none() && !check.problems.is_empty());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`OutputError::Io`] only when `dir`'s parent cannot be listed; everything found wrong in
/// the directory is in [`OutputCheck::problems`].
pub fn check(dir: &Path) -> Result<OutputCheck, OutputError> {
    let mut c = OutputCheck {
        dir: dir.to_path_buf(),
        ..OutputCheck::default()
    };
    if let Ok(resolved) = resolve(dir)
        && let (Some(parent), Some(name)) = (resolved.parent(), resolved.file_name())
    {
        c.leftovers = leftovers(parent, &name.to_string_lossy())?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
    }
    if !dir.is_dir() {
        let mut p = format!("{} is not a directory", dir.display());
        if !c.leftovers.is_empty() {
            p.push_str(
                " (a run was killed while swapping it in; the next run on it restores the previous run)",
            );
        }
        c.problems.push(p);
        return Ok(c);
    }
    let report: serde_json::Value = match fs::read_to_string(dir.join("report.json")) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                c.problems
                    .push(format!("report.json is not valid JSON: {e}"));
                return Ok(c);
            }
        },
        Err(e) => {
            c.problems
                .push(format!("report.json is missing ({e}): not a complete run"));
            return Ok(c);
        }
    };
    c.run_id = report["run_id"].as_str().map(str::to_string);
    c.status = report["status"].as_str().map(str::to_string);
    c.validation_ok = report["validation"]["ok"].as_bool();
    let Some(run_id) = c.run_id.clone() else {
        c.problems.push(
            "report.json has no run_id (written by a geocells version before run ids?)".into(),
        );
        return Ok(c);
    };
    let manifest = report["outputs"].as_array().cloned().unwrap_or_default();
    if manifest.is_empty() {
        c.problems.push("report.json lists no outputs".into());
    }
    let mut listed: Vec<String> = vec!["report.json".into()];
    let mut rows: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::default();
    for entry in &manifest {
        let Some(name) = entry["file"].as_str() else {
            c.problems
                .push(format!("report.json: bad outputs entry {entry}"));
            continue;
        };
        listed.push(name.to_string());
        let path = dir.join(name);
        let (sha, bytes) = match file_digest(&path) {
            Ok(d) => d,
            Err(e) => {
                c.problems
                    .push(format!("{name} is missing or unreadable: {e}"));
                continue;
            }
        };
        if Some(bytes) != entry["bytes"].as_u64() || Some(sha.as_str()) != entry["sha256"].as_str()
        {
            c.problems.push(format!(
                "{name} is not the file of run {run_id} (size or SHA-256 differs from report.json)"
            ));
        }
        let (id, n) = if name.ends_with(".parquet") {
            match parquet_stamp(&path) {
                Ok((id, n)) => {
                    rows.insert(name.to_string(), n);
                    (id, Some(n))
                }
                Err(e) => {
                    c.problems.push(format!("{name}: unreadable Parquet: {e}"));
                    (None, None)
                }
            }
        } else {
            (embedded_run_id(&path), None)
        };
        if id.as_deref() != Some(run_id.as_str()) {
            c.problems.push(format!(
                "{name} carries run id {} where report.json says {run_id}",
                id.as_deref().unwrap_or("(none)")
            ));
        }
        c.files.push((name.to_string(), bytes, n));
    }
    for e in fs::read_dir(dir).map_err(io_err(dir))? {
        let e = e.map_err(io_err(dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !listed.contains(&name) {
            c.problems.push(format!(
                "{name} is not part of run {run_id} (not in report.json's outputs)"
            ));
        }
    }
    let counts = &report["counts"];
    let count = |k: &str| counts[k].as_u64();
    let expect = |c: &mut OutputCheck, file: &str, what: &str, want: Option<u64>| {
        if let (Some(&got), Some(want)) = (rows.get(file), want)
            && got != want
        {
            c.problems.push(format!(
                "{file} has {got} rows where report.json counts {want} {what}"
            ));
        }
    };
    expect(&mut c, "rejects.parquet", "rejects", count("rejects"));
    if c.status.as_deref() == Some("failed") {
        expect(&mut c, "rejects.parquet", "input rows", count("input_rows"));
        return Ok(c);
    }
    if c.status.as_deref() != Some("complete") {
        c.problems.push(format!(
            "report.json status is {}, not complete",
            report["status"]
        ));
    }
    expect(&mut c, "cells.parquet", "cells", count("cells"));
    expect(
        &mut c,
        "points.parquet",
        "labelled points",
        count("points_labelled"),
    );
    // A run restricted to some countries (a shard of a merge) leaves the other countries'
    // points to the other shards.
    let restricted = !report["params"]["countries"].is_null();
    if let (Some(i), Some(l), Some(r)) = (
        count("input_rows"),
        count("points_labelled"),
        count("rejects"),
    ) && !restricted
        && i != l + r
    {
        c.problems.push(format!(
            "report.json counts {i} input rows but {l} labelled + {r} rejected"
        ));
    }
    if c.problems.is_empty() {
        cell_ids(dir, &mut c);
    }
    Ok(c)
}

/// The cell ids of `cells.parquet` are `0..K-1`, and every point and target names one.
fn cell_ids(dir: &Path, c: &mut OutputCheck) {
    let cells = match i64_column(&dir.join("cells.parquet"), "cell_id") {
        Ok(v) => v,
        Err(e) => {
            c.problems.push(format!("cells.parquet: {e}"));
            return;
        }
    };
    if cells.iter().enumerate().any(|(i, &id)| id != i as i64) {
        c.problems
            .push("cells.parquet: cell_id is not 0..K-1 in order".into());
    }
    let k = cells.len() as i64;
    for file in ["points.parquet", "targets.parquet"] {
        match i64_column(&dir.join(file), "cell_id") {
            Ok(ids) => {
                if let Some((row, id)) =
                    ids.iter().enumerate().find(|(_, id)| !(0..k).contains(*id))
                {
                    c.problems.push(format!(
                        "{file} row {row}: cell_id {id} is not a cell of cells.parquet (0..{k})"
                    ));
                }
            }
            Err(e) => c.problems.push(format!("{file}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{RUN_ID_KEY, embedded_run_id};

    #[test]
    fn a_png_crc_after_the_run_id_is_not_read_as_part_of_it() {
        // A tEXt chunk's 4-byte CRC follows its text; found in a real run, a CRC starting with
        // 0x37 ('7') made the check report a 17-digit id and call the run inconsistent.
        let dir = std::env::temp_dir().join(format!("geocells-runid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("map.png");
        let mut bytes = b"\x89PNG....tEXt".to_vec();
        bytes.extend_from_slice(RUN_ID_KEY.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(b"0452d85c98d26f12");
        bytes.extend_from_slice(&[0x37, 0x41, 0x00, 0x10]);
        std::fs::write(&path, bytes).expect("write");
        assert_eq!(embedded_run_id(&path).as_deref(), Some("0452d85c98d26f12"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
