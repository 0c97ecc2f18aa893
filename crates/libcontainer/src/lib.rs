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
