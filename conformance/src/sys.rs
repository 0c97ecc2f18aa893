//! Thin wrappers over the few libc calls std does not offer (the suite depends on no libc crate).

use std::io;
use std::os::fd::RawFd;

#[repr(C)]
struct IoVec {
    base: *mut u8,
    len: usize,
}

#[repr(C)]
struct MsgHdr {
    name: *mut u8,
    namelen: u32,
    iov: *mut IoVec,
    iovlen: usize,
    control: *mut u8,
    controllen: usize,
    flags: i32,
}

/// The terminal size as TIOCGWINSZ reports it.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct WinSize {
    pub rows: u16,
    pub cols: u16,
    pub xpixel: u16,
    pub ypixel: u16,
}

extern "C" {
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
    fn umount2(target: *const u8, flags: i32) -> i32;
    fn recvmsg(fd: i32, msg: *mut MsgHdr, flags: i32) -> isize;
    fn isatty(fd: i32) -> i32;
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    fn ioctl(fd: i32, req: u64, ...) -> i32;
    fn syscall(nr: i64, ...) -> i64;
    fn close(fd: i32) -> i32;
    fn dup2(old: i32, new: i32) -> i32;
    fn __errno_location() -> *mut i32;
}

fn check(rc: i64) -> io::Result<i64> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Makes this process the reaper of its orphaned descendants (container inits left by `create`).
pub fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER (36) takes one integer argument and touches no memory.
    check(unsafe { prctl(36, 1, 0, 0, 0) } as i64).map(|_| ())
}

/// How a reaped child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// Reaps one child without blocking: `Ok(None)` when none has exited.
pub fn reap_any() -> io::Result<Option<(i32, Exit)>> {
    let mut status = 0i32;
    // SAFETY: `status` is a valid out pointer; WNOHANG (1) keeps the call non-blocking.
    let pid = check(unsafe { waitpid(-1, &mut status, 1) } as i64)? as i32;
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some((pid, decode_status(status))))
}

/// Decodes a wait status word.
pub fn decode_status(status: i32) -> Exit {
    if status & 0x7f == 0 {
        Exit::Code((status >> 8) & 0xff)
    } else {
        Exit::Signal(status & 0x7f)
    }
}

/// Sends `sig` to `pid`.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill(2) takes plain integers.
    check(unsafe { libc_kill(pid, sig) } as i64).map(|_| ())
}

/// Whether `pid` names a live process (signal 0 probe; zombies count as live, like kill(2)).
pub fn pid_alive(pid: i32) -> bool {
    pid > 0 && kill(pid, 0).is_ok()
}

/// Lazily detaches the mount at `path` (MNT_DETACH).
pub fn umount_detach(path: &str) -> io::Result<()> {
    let c = format!("{path}\0");
    // SAFETY: `c` is NUL-terminated and outlives the call; MNT_DETACH is 2.
    check(unsafe { umount2(c.as_ptr(), 2) } as i64).map(|_| ())
}

/// Receives one message on a unix socket and returns the first fd passed with SCM_RIGHTS.
pub fn recv_fd(sock: RawFd) -> io::Result<RawFd> {
    let mut data = [0u8; 256];
    let mut iov = IoVec { base: data.as_mut_ptr(), len: data.len() };
    // Room for one cmsghdr (16 bytes) plus up to 4 fds.
    let mut control = [0u64; 8];
    let mut msg = MsgHdr {
        name: std::ptr::null_mut(),
        namelen: 0,
        iov: &mut iov,
        iovlen: 1,
        control: control.as_mut_ptr() as *mut u8,
        controllen: std::mem::size_of_val(&control),
        flags: 0,
    };
    // SAFETY: every pointer in `msg` points at live, correctly sized stack buffers for the call.
    check(unsafe { recvmsg(sock, &mut msg, 0x4000_0000 /* MSG_CMSG_CLOEXEC */) } as i64)?;
    if msg.controllen < 20 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no control message (SCM_RIGHTS) received"));
    }
    let words = control;
    let len = words[0] as usize;
    let level_type = words[1];
    let (level, kind) = ((level_type & 0xffff_ffff) as i32, (level_type >> 32) as i32);
    if level != 1 || kind != 1 || len < 20 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("control message is not SCM_RIGHTS (level {level} type {kind})")));
    }
    Ok((words[2] & 0xffff_ffff) as i32)
}

/// Whether `fd` refers to a terminal.
pub fn is_tty(fd: RawFd) -> bool {
    // SAFETY: isatty only inspects the descriptor number.
    unsafe { isatty(fd) == 1 }
}

/// Reads the terminal window size of `fd`.
pub fn winsize(fd: RawFd) -> io::Result<WinSize> {
    let mut ws = WinSize::default();
    // SAFETY: TIOCGWINSZ (0x5413) writes one `struct winsize`, which `ws` is.
    check(unsafe { ioctl(fd, 0x5413, &mut ws as *mut WinSize) } as i64)?;
    Ok(ws)
}

/// Clears FD_CLOEXEC so `fd` survives exec (F_SETFD = 2).
pub fn clear_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_SETFD takes one integer flag argument.
    check(unsafe { fcntl(fd, 2, 0) } as i64).map(|_| ())
}

/// dup2(2).
pub fn dup_to(old: RawFd, new: RawFd) -> io::Result<()> {
    // SAFETY: dup2 takes plain descriptor numbers.
    check(unsafe { dup2(old, new) } as i64).map(|_| ())
}

/// close(2), errors ignored.
pub fn close_fd(fd: RawFd) {
    // SAFETY: closing a descriptor number we own; a stale number only yields EBADF.
    unsafe {
        close(fd);
    }
}

/// A raw system call with up to three integer arguments: Ok(return) or Err(errno).
pub fn raw_syscall(nr: i64, a: u64, b: u64, c: u64) -> Result<i64, i32> {
    // SAFETY: the callers only issue syscalls whose arguments are integers, never pointers
    // (getppid, getpgrp, personality, sched_yield, getsid, ...).
    let rc = unsafe { syscall(nr, a, b, c) };
    if rc == -1 {
        // SAFETY: __errno_location returns this thread's errno slot, always valid.
        Err(unsafe { *__errno_location() })
    } else {
        Ok(rc)
    }
}

/// Waits for one specific child without blocking: Ok(None) while it runs, Err(ECHILD) when it
/// is not our child (or was already reaped).
pub fn try_wait_pid(pid: i32) -> io::Result<Option<Exit>> {
    let mut status = 0i32;
    // SAFETY: `status` is a valid out pointer; WNOHANG (1) keeps the call non-blocking.
    let r = check(unsafe { waitpid(pid, &mut status, 1) } as i64)? as i32;
    Ok((r == pid).then(|| decode_status(status)))
}
