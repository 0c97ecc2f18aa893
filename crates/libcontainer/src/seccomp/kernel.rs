//! The seccomp(2) calls: probing flags and actions, loading a program, and handing a notify fd to the agent.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::sys::socket::{
    self, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};

use super::bpf::Insn;
use super::SeccompError;

/// The filter flags brig knows, with their OCI names.
pub(super) const KNOWN_FLAGS: [(&str, libc::c_ulong); 4] = [
    ("SECCOMP_FILTER_FLAG_TSYNC", libc::SECCOMP_FILTER_FLAG_TSYNC),
    (
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    ),
    ("SECCOMP_FILTER_FLAG_LOG", libc::SECCOMP_FILTER_FLAG_LOG),
    (
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
    ),
];

/// Human-readable `flags` for error messages, e.g. `LOG|NEW_LISTENER`.
pub(super) fn flag_names(flags: libc::c_ulong) -> String {
    let all = [
        ("TSYNC", libc::SECCOMP_FILTER_FLAG_TSYNC),
        ("LOG", libc::SECCOMP_FILTER_FLAG_LOG),
        ("SPEC_ALLOW", libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW),
        ("NEW_LISTENER", libc::SECCOMP_FILTER_FLAG_NEW_LISTENER),
        ("TSYNC_ESRCH", libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH),
        (
            "WAIT_KILLABLE_RECV",
            libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
        ),
    ];
    let names: Vec<&str> = all
        .iter()
        .filter(|(_, b)| flags & b != 0)
        .map(|(n, _)| *n)
        .collect();
    if names.is_empty() {
        "0".to_string()
    } else {
        names.join("|")
    }
}

/// Whether the running kernel accepts filter flag `flag`.
///
/// seccomp(SECCOMP_SET_MODE_FILTER) checks its flags before it reads the program, so a NULL program
/// fails with EFAULT when the flags are fine and EINVAL when they are not (libseccomp probes the same way).
/// WAIT_KILLABLE_RECV is only valid together with NEW_LISTENER, so it is probed with it.
pub(super) fn flag_supported(flag: libc::c_ulong) -> bool {
    static CACHE: OnceLock<libc::c_ulong> = OnceLock::new();
    let supported = *CACHE.get_or_init(|| {
        let mut ok = 0;
        for (_, bit) in KNOWN_FLAGS {
            let probe = if bit == libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV {
                bit | libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
            } else {
                bit
            };
            // SAFETY: a NULL program pointer makes the kernel fail with EFAULT before it installs anything;
            // no memory of ours is read or written.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    probe,
                    std::ptr::null::<libc::sock_fprog>(),
                )
            };
            if rc < 0 && Errno::last() == Errno::EFAULT {
                ok |= bit;
            }
        }
        ok
    });
    supported & flag == flag
}

/// Whether the running kernel knows return action `action` (SECCOMP_GET_ACTION_AVAIL).
pub(super) fn action_available(action: u32) -> bool {
    // SAFETY: the kernel reads one u32 through the pointer, which points at a live local.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_GET_ACTION_AVAIL,
            0,
            &action as *const u32,
        )
    };
    rc == 0
}

/// Loads `program` into the calling thread with seccomp(2). Returns the notify fd when `flags` ask for one.
pub(super) fn load(
    program: &[Insn],
    flags: libc::c_ulong,
) -> Result<Option<OwnedFd>, SeccompError> {
    let prog = libc::sock_fprog {
        len: program.len() as libc::c_ushort,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at `program`, which outlives the call; the kernel copies the instructions and
    // keeps no pointer to them. The kernel validates the program itself.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc < 0 {
        return Err(SeccompError::Install {
            flags,
            source: Errno::last(),
        });
    }
    if flags & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
        // SAFETY: with NEW_LISTENER, a successful seccomp() returns a new file descriptor that nothing else owns.
        Ok(Some(unsafe { OwnedFd::from_raw_fd(rc as libc::c_int) }))
    } else {
        Ok(None)
    }
}

/// Connects to the seccomp agent's socket at `listenerPath`.
pub(super) fn connect(path: &Path) -> Result<OwnedFd, SeccompError> {
    let err = |source| SeccompError::Connect {
        path: path.to_path_buf(),
        source,
    };
    let sock = socket::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(err)?;
    let addr = UnixAddr::new(path).map_err(err)?;
    loop {
        match socket::connect(sock.as_raw_fd(), &addr) {
            Err(Errno::EINTR) => continue,
            r => break r.map_err(err)?,
        }
    }
    Ok(sock)
}

/// Sends `body` with `fd` attached (SCM_RIGHTS on the first chunk), retrying short writes and EINTR.
pub(super) fn send_with_fd(
    sock: BorrowedFd,
    fd: BorrowedFd,
    body: &[u8],
) -> Result<(), SeccompError> {
    let fds = [fd.as_raw_fd()];
    let rights = [ControlMessage::ScmRights(&fds)];
    let mut sent = 0;
    // At least one sendmsg, so the fd goes out even with an empty body.
    loop {
        let iov = [IoSlice::new(&body[sent..])];
        let cmsgs: &[ControlMessage] = if sent == 0 { &rights } else { &[] };
        match socket::sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Ok(n) => sent += n,
            Err(Errno::EINTR) => continue,
            Err(source) => return Err(SeccompError::Send { source }),
        }
        if sent >= body.len() {
            break;
        }
    }
    Ok(())
}
