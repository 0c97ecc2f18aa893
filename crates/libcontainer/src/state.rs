//! The state directory `<root>/<id>/`: the container's record (state.json), its lock, its exec FIFO.
//!
//! Touches only files under the state root. The status is derived, never stored: a live init with
//! the FIFO still present is `created`, without it `running` (or `paused` when its cgroup is
//! frozen); a dead or reused pid is `stopped`.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::sys::{Ctx, SysError};
use nix::fcntl::{Flock, FlockArg};

pub const STATE_FILE: &str = "state.json";
pub const EXEC_FIFO: &str = "exec.fifo";
pub const CONFIG_COPY: &str = "config.json";
pub const OCI_VERSION: &str = "1.3.0";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("container `{0}` does not exist")]
    NotExist(String),
    #[error("container with id `{0}` already exists")]
    Exists(String),
    #[error("invalid container id `{0}`: use letters, digits, `_`, `+`, `-` and `.`, not starting with `.`")]
    BadId(String),
    #[error("state root `{path}`: {source}")]
    Root {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} `{path}`: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state `{path}` is corrupt: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Sys(#[from] SysError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Stopped,
    Paused,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
            Status::Paused => "paused",
        })
    }
}

/// What brig keeps about a container between invocations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    /// Host pid of the container's init; 0 before it exists.
    pub pid: i32,
    /// Start time of `pid` (field 22 of /proc/PID/stat), to tell a reused pid from ours.
    pub pid_start: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    pub owner: String,
    /// Where the container's cgroups are (opaque to this module).
    #[serde(default)]
    pub cgroup: Option<serde_json::Value>,
    /// The global flags the container was created with, reused by later commands.
    #[serde(default)]
    pub systemd_cgroup: bool,
    #[serde(default)]
    pub rootless: bool,
}

/// The runtime-spec state, as `brig state` prints it and hooks read it on stdin.
#[derive(Debug, Clone, Serialize)]
pub struct OciState<'a> {
    #[serde(rename = "ociVersion")]
    pub oci_version: &'static str,
    pub id: &'a str,
    pub pid: i32,
    pub status: Status,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub created: &'a str,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub annotations: &'a HashMap<String, String>,
    pub owner: &'a str,
}

impl State {
    pub fn oci(&self, status: Status) -> OciState<'_> {
        OciState {
            oci_version: OCI_VERSION,
            id: &self.id,
            pid: if status == Status::Stopped {
                0
            } else {
                self.pid
            },
            status,
            bundle: &self.bundle,
            rootfs: &self.rootfs,
            created: &self.created,
            annotations: &self.annotations,
            owner: &self.owner,
        }
    }
}

/// Container ids become directory names: refuse anything that could escape the root.
pub fn check_id(id: &str) -> Result<(), StateError> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+-.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StateError::BadId(id.to_string()))
    }
}

/// An open, exclusively locked state directory. The lock is released on drop.
pub struct StateDir {
    pub id: String,
    pub path: PathBuf,
    /// Held for the life of this value: the exclusive lock on the directory.
    _lock: Flock<File>,
}

impl StateDir {
    /// Make `<root>/<id>` for a new container; fails if the id is taken.
    pub fn create(root: &Path, id: &str) -> Result<StateDir, StateError> {
        check_id(id)?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(|source| StateError::Root {
                path: root.to_path_buf(),
                source,
            })?;
        let path = root.join(id);
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StateError::Exists(id.to_string()))
            }
            Err(source) => {
                return Err(StateError::Io {
                    what: "create state dir",
                    path,
                    source,
                })
            }
        }
        let lock = Self::lock(&path)?;
        Ok(StateDir {
            id: id.to_string(),
            path,
            _lock: lock,
        })
    }

    /// Open and lock the state dir of an existing container.
    pub fn open(root: &Path, id: &str) -> Result<StateDir, StateError> {
        check_id(id)?;
        let path = root.join(id);
        let lock = match Self::lock(&path) {
            Err(StateError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(StateError::NotExist(id.to_string()))
            }
            other => other?,
        };
        // A concurrent delete may have removed it while we waited for the lock.
        if !path.join(STATE_FILE).exists() && !path.exists() {
            return Err(StateError::NotExist(id.to_string()));
        }
        Ok(StateDir {
            id: id.to_string(),
            path,
            _lock: lock,
        })
    }

    fn lock(path: &Path) -> Result<Flock<File>, StateError> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(path)
            .map_err(|source| StateError::Io {
                what: "open state dir",
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Flock::lock(f, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .ctx("flock", path.display())?)
    }

    pub fn load(&self) -> Result<State, StateError> {
        let p = self.path.join(STATE_FILE);
        let bytes = match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StateError::NotExist(self.id.clone()))
            }
            Err(source) => {
                return Err(StateError::Io {
                    what: "read",
                    path: p,
                    source,
                })
            }
        };
        serde_json::from_slice(&bytes).map_err(|source| StateError::Corrupt { path: p, source })
    }

    /// Write state.json atomically (temp file + rename), so readers never see half a record.
    pub fn save(&self, state: &State) -> Result<(), StateError> {
        let tmp = self.path.join(".state.json.tmp");
        let io = |what, source| StateError::Io {
            what,
            path: tmp.clone(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| io("create", e))?;
        let bytes = serde_json::to_vec(state).map_err(|e| io("serialize", e.into()))?;
        f.write_all(&bytes).map_err(|e| io("write", e))?;
        std::fs::rename(&tmp, self.path.join(STATE_FILE)).map_err(|e| io("rename", e))
    }

    pub fn fifo_path(&self) -> PathBuf {
        self.path.join(EXEC_FIFO)
    }

    /// Remove the whole state dir (the lock goes with it).
    pub fn remove(self) -> Result<(), StateError> {
        std::fs::remove_dir_all(&self.path).map_err(|source| StateError::Io {
            what: "remove",
            path: self.path.clone(),
            source,
        })
    }
}

/// Ids of all containers under `root` (directories holding a state.json), sorted.
pub fn list_ids(root: &Path) -> Result<Vec<String>, StateError> {
    let rd = match std::fs::read_dir(root) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(StateError::Root {
                path: root.to_path_buf(),
                source,
            })
        }
    };
    let mut ids: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(STATE_FILE).exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    Ok(ids)
}

/// Start time of a process (clock ticks since boot), or None if it does not exist.
pub fn pid_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parens: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// Whether the state's init process is still our live process (not exited, not a zombie, not reused).
pub fn init_alive(state: &State) -> bool {
    state.pid > 0 && pid_start_time(state.pid) == Some(state.pid_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for good in ["a", "abc-1.2_x+y", "0123456789abcdef"] {
            check_id(good).unwrap();
        }
        for bad in ["", ".", "..", "a/b", "../x", ".hidden", "a b", "a\0b"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn own_start_time() {
        let me = std::process::id() as i32;
        assert!(pid_start_time(me).is_some());
        assert!(pid_start_time(i32::MAX).is_none());
    }

    #[test]
    fn create_open_duplicate_remove() {
        let tmp = crate::testutil::TempDir::new("state-test");
        let root = tmp.path().to_path_buf();
        let d = StateDir::create(&root, "c1").unwrap();
        assert!(matches!(
            StateDir::create(&root, "c1"),
            Err(StateError::Exists(_))
        ));
        let st = State {
            id: "c1".into(),
            pid: 1,
            pid_start: 0,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "t".into(),
            annotations: HashMap::new(),
            owner: String::new(),
            cgroup: None,
            systemd_cgroup: false,
            rootless: false,
        };
        d.save(&st).unwrap();
        drop(d);
        let d = StateDir::open(&root, "c1").unwrap();
        assert_eq!(d.load().unwrap().pid, 1);
        assert_eq!(list_ids(&root).unwrap(), vec!["c1".to_string()]);
        d.remove().unwrap();
        assert!(matches!(
            StateDir::open(&root, "c1"),
            Err(StateError::NotExist(_))
        ));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
