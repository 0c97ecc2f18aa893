//! Terminals: the pty the init makes for `process.terminal`, sent (master side) over
//! `--console-socket` with SCM_RIGHTS as runc does, and the receiving side for `brig run -t`.

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags, UnixAddr};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use crate::sys::{Ctx, SysError};

#[derive(Debug, thiserror::Error)]
pub enum TtyError {
    #[error("console socket `{path}`: {source}")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sys(#[from] SysError),
    #[error("console socket: no file descriptor received")]
    NoFd,
}

/// Connect to the console socket (done by brig before the clone, so a bad path fails early).
pub fn connect(path: &Path) -> Result<OwnedFd, TtyError> {
    let s = std::os::unix::net::UnixStream::connect(path).map_err(|source| TtyError::Connect {
        path: path.display().to_string(),
        source,
    })?;
    Ok(s.into())
}

/// Send `fd` over `sock` with SCM_RIGHTS; the payload is the file's name, as runc sends it.
pub fn send_fd(sock: BorrowedFd, fd: BorrowedFd, name: &str) -> Result<(), SysError> {
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [IoSlice::new(name.as_bytes())];
    sendmsg::<UnixAddr>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None)
        .ctx("sendmsg", "console socket")?;
    Ok(())
}

/// Receive one fd sent with `send_fd`.
pub fn recv_fd(sock: BorrowedFd) -> Result<OwnedFd, TtyError> {
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .ctx("recvmsg", "console socket")?;
    for c in msg
        .cmsgs()
        .map_err(|e| SysError::new("recvmsg", "console socket", e))?
    {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel installed this fd in our table for us; nothing else owns it.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Err(TtyError::NoFd)
}

/// In the init, after pivot: open a pty in the container's devpts, send the master over
/// `console`, make the slave our controlling terminal and stdio, and bind it over /dev/console.
pub fn setup_console(
    console: BorrowedFd,
    uid: u32,
    gid: u32,
    size: Option<(u16, u16)>,
) -> Result<(), SysError> {
    use nix::fcntl::{open, OFlag};
    let master = open(
        "/dev/ptmx",
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .ctx("open", "/dev/ptmx")?;
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int from the valid pointer; master is an open ptmx fd.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(SysError::new(
            "ioctl(TIOCSPTLCK)",
            "/dev/ptmx",
            nix::Error::last(),
        ));
    }
    // SAFETY: TIOCGPTPEER takes open flags by value and returns a new fd that we own.
    let slave = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if slave < 0 {
        return Err(SysError::new(
            "ioctl(TIOCGPTPEER)",
            "/dev/ptmx",
            nix::Error::last(),
        ));
    }
    // SAFETY: fresh fd returned by the kernel, owned by nobody else.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    if let Some((rows, cols)) = size {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize from the valid pointer.
        unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }
    let _ = nix::unistd::fchown(&slave, Some(uid.into()), Some(gid.into()));
    let slave_path = std::fs::read_link(format!("/proc/self/fd/{}", slave.as_raw_fd())).ok();
    send_fd(console, master.as_fd(), "/dev/ptmx")?;
    drop(master);
    // SAFETY: TIOCSCTTY with arg 0 on our slave; we are a session leader without a tty (setsid).
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(SysError::new(
            "ioctl(TIOCSCTTY)",
            "console",
            nix::Error::last(),
        ));
    }
    for target in 0..3 {
        // SAFETY: dup2 onto stdio numbers; the old stdio fds are intentionally replaced.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(SysError::new("dup2", "console", nix::Error::last()));
        }
    }
    if let Some(p) = slave_path {
        // /dev/console for programs that open it; best effort when /dev is read-only or absent.
        if std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open("/dev/console")
            .is_ok()
        {
            let _ = nix::mount::mount(
                Some(&p),
                "/dev/console",
                None::<&str>,
                nix::mount::MsFlags::MS_BIND,
                None::<&str>,
            );
        }
    }
    Ok(())
}

/// `brig run -t` without a console socket: copy between our stdio and the pty master until the
/// container's output ends. Puts our terminal in raw mode for the duration when stdin is a tty.
pub fn proxy(master: OwnedFd) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use nix::sys::termios;
    let stdin = std::io::stdin();
    let saved = termios::tcgetattr(&stdin).ok();
    if let Some(t) = &saved {
        let mut raw = t.clone();
        termios::cfmakeraw(&mut raw);
        let _ = termios::tcsetattr(&stdin, termios::SetArg::TCSANOW, &raw);
        // SAFETY: TIOCGWINSZ/TIOCSWINSZ read/write a winsize through valid pointers.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
                libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
            }
        }
    }
    let mut buf = [0u8; 8192];
    let mut stdin_open = true;
    loop {
        let mut fds = vec![PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::Error::EINTR) => continue,
            Err(_) => break,
            Ok(_) => {}
        }
        let m = fds[0].revents().unwrap_or(PollFlags::empty());
        let i = fds
            .get(1)
            .and_then(|f| f.revents())
            .unwrap_or(PollFlags::empty());
        if m.intersects(PollFlags::POLLIN) {
            match nix::unistd::read(&master, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let _ = write_all(std::io::stdout().as_fd(), &buf[..n]);
                }
            }
        } else if m.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
            break;
        }
        if i.intersects(PollFlags::POLLIN | PollFlags::POLLHUP) {
            match nix::unistd::read(stdin.as_fd(), &mut buf) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => {
                    let _ = write_all(master.as_fd(), &buf[..n]);
                }
            }
        }
    }
    if let Some(t) = saved {
        let _ = termios::tcsetattr(&stdin, termios::SetArg::TCSANOW, &t);
    }
}

/// write(2) until all of `data` is written (retrying EINTR).
pub(crate) fn write_all(fd: BorrowedFd, mut data: &[u8]) -> nix::Result<()> {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::Error::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_passing_round_trip() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let f = std::fs::File::open("/proc/self/status").unwrap();
        send_fd(a.as_fd(), f.as_fd(), "/dev/ptmx").unwrap();
        let got = recv_fd(b.as_fd()).unwrap();
        let p = std::fs::read_link(format!("/proc/self/fd/{}", got.as_raw_fd())).unwrap();
        assert!(p.to_string_lossy().ends_with("/status"), "{p:?}");
    }
}
