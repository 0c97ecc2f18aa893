//! Thin system-call wrappers: one call each, errors that name the call and the object it acted on.

use std::fmt;

/// One failed system call: the call, the object it acted on, and the errno.
#[derive(Debug)]
pub struct SysError {
    pub call: &'static str,
    pub what: String,
    pub errno: nix::Error,
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.what.is_empty() {
            write!(f, "{}: {}", self.call, self.errno.desc())
        } else {
            write!(f, "{} {}: {}", self.call, self.what, self.errno.desc())
        }
    }
}

impl std::error::Error for SysError {}

impl SysError {
    pub fn new(call: &'static str, what: impl Into<String>, errno: nix::Error) -> Self {
        SysError {
            call,
            what: what.into(),
            errno,
        }
    }
}

/// Attach a call name and an object to a `nix::Result`.
pub trait Ctx<T> {
    fn ctx(self, call: &'static str, what: impl fmt::Display) -> Result<T, SysError>;
}

impl<T> Ctx<T> for nix::Result<T> {
    fn ctx(self, call: &'static str, what: impl fmt::Display) -> Result<T, SysError> {
        self.map_err(|errno| SysError {
            call,
            what: what.to_string(),
            errno,
        })
    }
}
