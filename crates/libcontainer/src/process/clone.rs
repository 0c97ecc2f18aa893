//! Process creation without re-exec: clone3 (with CLONE_INTO_CGROUP when given a cgroup fd),
//! falling back to clone(2). The child returns from `clone_process` like fork() does.

use std::os::fd::{AsRawFd, BorrowedFd};

use crate::sys::SysError;

/// Linux `struct clone_args` (clone3), version 2 layout (with cgroup).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Whether the calling process has exactly one thread (required before cloning a child that
/// goes on running our code: no lock can be held by a thread that does not exist in the child).
pub fn single_threaded() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Threads:"))
                .map(|l| l[8..].trim() == "1")
        })
        .unwrap_or(true)
}

/// What happened: in the parent, the child's pid and whether it was born inside `cgroup`.
pub enum Forked {
    Parent { pid: i32, in_cgroup: bool },
    Child,
}

/// Clone a child with namespace `flags` (CLONE_NEW*), SIGCHLD as exit signal, no shared memory.
/// With `cgroup`, try clone3(CLONE_INTO_CGROUP) so the child never runs outside it.
pub fn clone_process(flags: u64, cgroup: Option<BorrowedFd>) -> Result<Forked, SysError> {
    debug_assert!(
        single_threaded(),
        "clone_process called with several threads"
    );
    let mut args = CloneArgs {
        flags,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    let try_clone3 = |a: &CloneArgs| {
        // SAFETY: clone3 without CLONE_VM behaves like fork(): the child gets a copy of our memory
        // and continues on its own copy of this stack, so no Rust invariant is shared. We are
        // single-threaded here (debug-asserted above), so no lock is held by a missing thread.
        unsafe {
            libc::syscall(
                libc::SYS_clone3,
                a as *const CloneArgs,
                std::mem::size_of::<CloneArgs>(),
            )
        }
    };
    let mut rc = try_clone3(&args);
    let mut in_cgroup = cgroup.is_some();
    if rc < 0 {
        let err = nix::Error::last();
        // Old kernels: no clone3 (ENOSYS), or no CLONE_INTO_CGROUP (E2BIG/EINVAL); cgroup fd
        // unusable (EBADF, EOPNOTSUPP on v1-only hosts): retry without the cgroup, then clone(2).
        if cgroup.is_some() && err != nix::Error::ENOSYS {
            args.flags &= !CLONE_INTO_CGROUP;
            args.cgroup = 0;
            in_cgroup = false;
            rc = try_clone3(&args);
        }
        if rc < 0 && nix::Error::last() == nix::Error::ENOSYS {
            in_cgroup = false;
            // SAFETY: as above: no CLONE_VM, null stack = copy-on-write of ours, single-threaded.
            rc = unsafe {
                libc::syscall(
                    libc::SYS_clone,
                    (flags as libc::c_ulong) | libc::SIGCHLD as libc::c_ulong,
                    0usize,
                    0usize,
                    0usize,
                    0usize,
                )
            };
        }
        if rc < 0 {
            return Err(SysError::new(
                "clone3",
                format!("flags {flags:#x}"),
                nix::Error::last(),
            ));
        }
    }
    if rc == 0 {
        Ok(Forked::Child)
    } else {
        Ok(Forked::Parent {
            pid: rc as i32,
            in_cgroup,
        })
    }
}
