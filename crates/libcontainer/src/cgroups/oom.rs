//! OOM notification: an fd that becomes readable when the container's memory cgroup reports an OOM.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::CgroupError;

fn last(call: &'static str, what: &Path) -> CgroupError {
    CgroupError::Sys {
        call,
        what: format!("`{}`", what.display()),
        errno: nix::errno::Errno::last(),
    }
}

/// v2: an inotify fd watching memory.events, which the kernel modifies on every OOM (and on other
/// memory events: compare `oom_count` before and after a wake-up).
pub(crate) fn watch_v2(dir: &Path) -> Result<OwnedFd, CgroupError> {
    let file = dir.join("memory.events");
    let c = CString::new(file.as_os_str().as_bytes()).map_err(|_| CgroupError::Unsupported {
        field: "oom".to_string(),
        reason: format!("`{}` contains a NUL byte", file.display()),
    })?;
    // SAFETY: inotify_init1 takes only flags and returns a new fd or -1.
    let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
    if fd < 0 {
        return Err(last("inotify_init1", &file));
    }
    // SAFETY: `fd` was just returned by inotify_init1 and is owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `fd` is a live inotify fd and `c` a NUL-terminated path that outlives the call.
    if unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), libc::IN_MODIFY) } < 0 {
        return Err(last("inotify_add_watch", &file));
    }
    Ok(fd)
}

/// v1: an eventfd registered on memory.oom_control through cgroup.event_control; each OOM adds 1.
pub(crate) fn watch_v1(dir: &Path) -> Result<OwnedFd, CgroupError> {
    let control = dir.join("memory.oom_control");
    let oom_control = std::fs::File::open(&control).map_err(|err| CgroupError::Open {
        path: control.clone(),
        err,
    })?;
    // SAFETY: eventfd takes an initial value and flags and returns a new fd or -1.
    let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if efd < 0 {
        return Err(last("eventfd", &control));
    }
    // SAFETY: `efd` was just returned by eventfd and is owned by nothing else.
    let efd = unsafe { OwnedFd::from_raw_fd(efd) };
    let line = format!("{} {}", efd.as_raw_fd(), oom_control.as_raw_fd());
    let event_control = dir.join("cgroup.event_control");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&event_control)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|err| CgroupError::Write {
            path: event_control,
            value: line,
            err,
        })?;
    // The kernel keeps its own reference to memory.oom_control: ours can close.
    Ok(efd)
}
