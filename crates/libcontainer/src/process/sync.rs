//! The create-time protocol between brig (the runtime) and the container's init, over one
//! `SOCK_SEQPACKET` socketpair: one datagram per message, a fixed frame, no serde.
//!
//! Frame: tag (1 byte) | arg (i32, native endian) | UTF-8 text (at most `MAX_TEXT` bytes).
//! Steps, cited by number on both sides:
//!  1. brig clones init (or an intermediate, see `process::clone`), places it in its cgroup,
//!     writes its id maps when the clone made a user namespace, and sends `Go`.
//!  2. (intermediate only) it joins/unshares namespaces; for a new user namespace it sends
//!     `NeedIdMaps` and waits for `Continue`; it forks the init and sends `Pid(host pid)`.
//!  3. init mounts the rootfs; if the spec has prestart/createRuntime hooks it sends `NeedHooks`
//!     and waits for `Continue` (brig runs them in the runtime namespaces).
//!  4. init runs createContainer hooks, pivots, finishes the rootfs, checks the program exists and
//!     sends `Ready`. brig records state `created`, writes the pid file and exits.
//!  5. init blocks on the exec FIFO until `brig start` opens it.
//!
//! At any step init may send `Warn(text)` (logged by brig) or `Failed { errno, text }` and exit.

use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use crate::sys::{Ctx, SysError};

pub const MAX_TEXT: usize = 1024;
const HEADER: usize = 5;

/// init (or the intermediate) -> brig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromInit {
    NeedIdMaps(i32),
    Pid(i32),
    NeedHooks,
    Ready,
    Warn(String),
    Failed { errno: i32, what: String },
}

/// brig -> init.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToInit {
    /// Step 1: you are placed; the argument is the init's host pid as brig sees it (0 if unknown).
    Go(i32),
    Continue,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Sys(#[from] SysError),
    #[error("the other side closed the sync socket")]
    Closed,
    #[error("malformed sync message (tag {0})")]
    Malformed(u8),
}

/// Make the socketpair: (brig's end, init's end), both close-on-exec.
pub fn pair() -> Result<(OwnedFd, OwnedFd), SysError> {
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .ctx("socketpair", "sync")
}

fn encode(tag: u8, arg: i32, text: &str) -> Vec<u8> {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut buf = Vec::with_capacity(HEADER + end);
    buf.push(tag);
    buf.extend_from_slice(&arg.to_ne_bytes());
    buf.extend_from_slice(&text.as_bytes()[..end]);
    buf
}

fn send_frame(fd: BorrowedFd, frame: &[u8]) -> Result<(), SyncError> {
    loop {
        match send(fd.as_raw_fd(), frame, MsgFlags::MSG_NOSIGNAL) {
            Ok(_) => return Ok(()),
            Err(nix::Error::EINTR) => continue,
            Err(nix::Error::EPIPE) | Err(nix::Error::ECONNRESET) => return Err(SyncError::Closed),
            Err(e) => return Err(SysError::new("send", "sync socket", e).into()),
        }
    }
}

fn recv_frame(fd: BorrowedFd) -> Result<(u8, i32, String), SyncError> {
    let mut buf = [0u8; HEADER + MAX_TEXT];
    let n = loop {
        match recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Ok(n) => break n,
            Err(nix::Error::EINTR) => continue,
            Err(nix::Error::ECONNRESET) => return Err(SyncError::Closed),
            Err(e) => return Err(SysError::new("recv", "sync socket", e).into()),
        }
    };
    if n == 0 {
        return Err(SyncError::Closed);
    }
    if n < HEADER {
        return Err(SyncError::Malformed(buf[0]));
    }
    let arg = i32::from_ne_bytes([buf[1], buf[2], buf[3], buf[4]]);
    let text = String::from_utf8_lossy(&buf[HEADER..n]).into_owned();
    Ok((buf[0], arg, text))
}

impl FromInit {
    pub fn send(&self, fd: BorrowedFd) -> Result<(), SyncError> {
        let frame = match self {
            FromInit::NeedIdMaps(pid) => encode(1, *pid, ""),
            FromInit::Pid(pid) => encode(2, *pid, ""),
            FromInit::NeedHooks => encode(3, 0, ""),
            FromInit::Ready => encode(4, 0, ""),
            FromInit::Warn(t) => encode(5, 0, t),
            FromInit::Failed { errno, what } => encode(6, *errno, what),
        };
        send_frame(fd, &frame)
    }

    pub fn recv(fd: BorrowedFd) -> Result<FromInit, SyncError> {
        let (tag, arg, text) = recv_frame(fd)?;
        Ok(match tag {
            1 => FromInit::NeedIdMaps(arg),
            2 => FromInit::Pid(arg),
            3 => FromInit::NeedHooks,
            4 => FromInit::Ready,
            5 => FromInit::Warn(text),
            6 => FromInit::Failed {
                errno: arg,
                what: text,
            },
            t => return Err(SyncError::Malformed(t)),
        })
    }
}

impl ToInit {
    pub fn send(&self, fd: BorrowedFd) -> Result<(), SyncError> {
        let frame = match self {
            ToInit::Go(pid) => encode(1, *pid, ""),
            ToInit::Continue => encode(2, 0, ""),
        };
        send_frame(fd, &frame)
    }

    pub fn recv(fd: BorrowedFd) -> Result<ToInit, SyncError> {
        match recv_frame(fd)? {
            (1, pid, _) => Ok(ToInit::Go(pid)),
            (2, _, _) => Ok(ToInit::Continue),
            (t, _, _) => Err(SyncError::Malformed(t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn round_trips() {
        let (a, b) = pair().unwrap();
        let msgs = [
            FromInit::NeedIdMaps(42),
            FromInit::Pid(7),
            FromInit::NeedHooks,
            FromInit::Ready,
            FromInit::Warn("careful".into()),
            FromInit::Failed {
                errno: 2,
                what: "mounts[3] (destination `/x`): ENOENT".into(),
            },
        ];
        for m in &msgs {
            m.send(b.as_fd()).unwrap();
            assert_eq!(&FromInit::recv(a.as_fd()).unwrap(), m);
        }
        ToInit::Go(99).send(a.as_fd()).unwrap();
        assert_eq!(ToInit::recv(b.as_fd()).unwrap(), ToInit::Go(99));
        ToInit::Continue.send(a.as_fd()).unwrap();
        assert_eq!(ToInit::recv(b.as_fd()).unwrap(), ToInit::Continue);
    }

    #[test]
    fn long_text_is_capped_on_a_char_boundary() {
        let (a, b) = pair().unwrap();
        let long = "é".repeat(MAX_TEXT);
        FromInit::Warn(long).send(b.as_fd()).unwrap();
        match FromInit::recv(a.as_fd()).unwrap() {
            FromInit::Warn(t) => assert!(t.len() <= MAX_TEXT && t.chars().all(|c| c == 'é')),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn closed_peer_is_reported() {
        let (a, b) = pair().unwrap();
        drop(b);
        assert!(matches!(FromInit::recv(a.as_fd()), Err(SyncError::Closed)));
    }
}
