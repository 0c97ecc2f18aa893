//! One runc subcommand per file: argument mapping only; the work is in libcontainer.

pub mod create;
pub mod delete;
pub mod exec;
pub mod features;
pub mod kill;
pub mod list;
pub mod run;
pub mod spec;
pub mod start;
pub mod state;

/// A command's outcome: the exit code, or the one-line error message.
pub type Outcome = Result<u8, String>;
