//! libcontainer: turns an OCI runtime bundle (`config.json` + rootfs) into a running Linux container.
//!
//! The entry point is [`container::Container`]: `create` builds the init process and leaves it
//! waiting, `start` releases it, `kill`/`delete`/`state` act on it through the state directory.
//! Nothing here prints: errors are typed (one enum per module) and the CLI turns them into one line.

pub mod capabilities;
pub mod cgroups;
pub mod container;
pub mod error;
pub mod exec;
pub mod hooks;
pub mod logging;
pub mod namespaces;
pub mod process;
pub mod rootfs;
pub mod seccomp;
pub mod signal;
pub mod spec;
pub mod state;
pub mod sys;
pub mod time;
pub mod tty;

/// Test helpers shared by the unit tests.
#[cfg(test)]
pub(crate) mod testutil {
    use std::path::{Path, PathBuf};

    /// A fresh directory under the system temp dir, removed when dropped (also when a test
    /// panics).
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(name: &str) -> TempDir {
            let p = std::env::temp_dir().join(format!("brig-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).expect("create temp dir");
            TempDir(p)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
