//! seccomp: placeholder, filled by the seccomp work (issue 7).
