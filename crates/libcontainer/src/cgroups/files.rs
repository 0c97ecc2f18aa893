//! Reading and writing cgroupfs control files, with errors that name the file and the value.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use super::CgroupError;

/// Write `value` to `dir/file` in one `write(2)`, as the kernel expects for control files.
pub(crate) fn write(dir: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    let path = dir.join(file);
    #[cfg(test)]
    test_log::record(&path, value);
    // No O_CREAT: a control file the kernel did not make means the knob does not exist here.
    let res = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .and_then(|mut f| f.write_all(value.as_bytes()));
    res.map_err(|err| CgroupError::Write {
        path,
        value: value.to_string(),
        err,
    })
}

/// Read `dir/file` whole.
pub(crate) fn read(dir: &Path, file: &str) -> Result<String, CgroupError> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|err| CgroupError::Read { path, err })
}

/// Read a file, `None` when it does not exist.
pub(crate) fn read_opt(dir: &Path, file: &str) -> Result<Option<String>, CgroupError> {
    let path = dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(err) => Err(CgroupError::Read { path, err }),
    }
}

pub(crate) fn exists(dir: &Path, file: &str) -> bool {
    dir.join(file).exists()
}

/// Parse one unsigned number; `max` reads as `u64::MAX`.
pub(crate) fn parse_u64(path: &Path, text: &str) -> Result<u64, CgroupError> {
    let t = text.trim();
    if t == "max" {
        return Ok(u64::MAX);
    }
    t.parse::<u64>().map_err(|_| CgroupError::Parse {
        path: path.to_path_buf(),
        value: t.to_string(),
        what: "an unsigned number",
    })
}

/// Read a file holding one number (`max` is `u64::MAX`); `None` when the file does not exist or is empty.
pub(crate) fn read_u64(dir: &Path, file: &str) -> Result<Option<u64>, CgroupError> {
    match read_opt(dir, file)? {
        Some(s) if !s.trim().is_empty() => parse_u64(&dir.join(file), &s).map(Some),
        _ => Ok(None),
    }
}

/// Parse `key value` lines (memory.stat, cpu.stat, memory.events, ...). Lines that do not parse are skipped.
pub(crate) fn parse_flat_keyed(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let k = it.next()?;
            let v = it.next()?.parse::<u64>().ok()?;
            Some((k.to_string(), v))
        })
        .collect()
}

/// Value of `key` in a flat-keyed file, `None` when the file or the key is absent.
pub(crate) fn keyed_value(dir: &Path, file: &str, key: &str) -> Result<Option<u64>, CgroupError> {
    Ok(read_opt(dir, file)?.and_then(|t| {
        parse_flat_keyed(&t)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }))
}

/// The pids listed in `dir/cgroup.procs`.
pub(crate) fn procs(dir: &Path) -> Result<Vec<i32>, CgroupError> {
    let Some(text) = read_opt(dir, "cgroup.procs")? else {
        return Ok(Vec::new());
    };
    Ok(text
        .lines()
        .filter_map(|l| l.trim().parse::<i32>().ok())
        .collect())
}

/// `dir` and all directories below it, deepest first (the order rmdir needs).
pub(crate) fn subtree_deepest_first(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    walk(&e.path(), out);
                }
            }
        }
        out.push(d.to_path_buf());
    }
    if dir.is_dir() {
        walk(dir, &mut out);
    }
    out
}

/// Every write of the current test thread, in order (fake cgroupfs files only keep the last one).
#[cfg(test)]
pub(crate) mod test_log {
    use std::cell::RefCell;
    use std::path::{Path, PathBuf};

    thread_local! {
        static WRITES: RefCell<Vec<(PathBuf, String)>> = const { RefCell::new(Vec::new()) };
    }

    pub fn record(path: &Path, value: &str) {
        WRITES.with(|w| w.borrow_mut().push((path.to_path_buf(), value.to_string())));
    }

    /// Take the writes recorded so far.
    pub fn take() -> Vec<(PathBuf, String)> {
        WRITES.with(|w| std::mem::take(&mut *w.borrow_mut()))
    }
}
