//! One runc subcommand per file: argument mapping only; the work is in libcontainer.

pub mod create;
pub mod delete;
pub mod events;
pub mod exec;
pub mod features;
pub mod kill;
pub mod list;
pub mod pause;
pub mod ps;
pub mod resume;
pub mod run;
pub mod spec;
pub mod start;
pub mod state;
pub mod update;

/// A command's outcome: the exit code, or the one-line error message.
pub type Outcome = Result<u8, String>;
