//! Real filters installed in forked children: errno verdicts, flags, podman's profile, NOTIFY with an agent.

use super::*;

// ---------------------------------------------------------------- real kernel ------------------

/// Runs `child` in a forked process and returns its exit code (or 128 + signal).
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult};
    // SAFETY: the child only makes raw syscalls on memory prepared before the fork and leaves with _exit,
    // so the test harness's other threads (whose locks it may have inherited) do not matter.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let code = child();
            // SAFETY: _exit ends the child without running the parent's atexit handlers or destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
            WaitStatus::Exited(_, code) => code,
            WaitStatus::Signaled(_, sig, _) => 128 + sig as i32,
            other => panic!("unexpected wait status {other:?}"),
        },
    }
}

/// A raw syscall; returns the result or -errno.
fn sys(nr: libc::c_long, args: [u64; 3]) -> i64 {
    // SAFETY: only used with syscalls whose pointer arguments are null or point at live static data.
    let rc = unsafe { libc::syscall(nr, args[0], args[1], args[2]) };
    if rc < 0 {
        -(nix::errno::Errno::last_raw() as i64)
    } else {
        rc as i64
    }
}

#[test]
fn kernel_mkdir_denied_with_eacces() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
    );
    static PATH: &[u8] = b"/tmp/brig-seccomp-test-never-created\0";
    let code = in_child(|| {
        if f.install().is_err() {
            return 10;
        }
        let r = sys(libc::SYS_mkdir, [PATH.as_ptr() as u64, 0o755, 0]);
        if r == -(libc::EACCES as i64) {
            0
        } else {
            11
        }
    });
    assert_eq!(code, 0);
    assert!(!std::path::Path::new("/tmp/brig-seccomp-test-never-created").exists());
}

#[test]
fn kernel_default_errno_38_and_flags() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
            "syscalls":[{"names":["exit","exit_group","getpid"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    let code = in_child(|| {
        if f.install().is_err() {
            return 10;
        }
        if sys(libc::SYS_getpid, [0; 3]) <= 0 {
            return 11;
        }
        if sys(libc::SYS_getppid, [0; 3]) != -(libc::ENOSYS as i64) {
            return 12;
        }
        0
    });
    assert_eq!(code, 0);
}

#[test]
fn kernel_accepts_podman_profile_and_agrees_with_the_interpreter() {
    let f = compile(&podman()).unwrap();
    let code = in_child(|| {
        if f.install().is_err() {
            return 10;
        }
        let mut bad = 0;
        if sys(libc::SYS_getpid, [0; 3]) <= 0 {
            bad |= 1;
        }
        if sys(libc::SYS_kexec_load, [0; 3]) != -(libc::EPERM as i64) {
            bad |= 2;
        }
        if sys(libc::SYS_personality, [0xffff_ffff, 0, 0]) < 0 {
            bad |= 4;
        }
        if sys(libc::SYS_personality, [0x1_ffff_ffff, 0, 0]) != -(libc::ENOSYS as i64) {
            bad |= 8;
        }
        if sys(libc::SYS_socket, [16, 3, 9]) != -(libc::EINVAL as i64) {
            bad |= 16;
        }
        if sys(470, [0; 3]) != -(libc::ENOSYS as i64) {
            bad |= 32;
        }
        bad
    });
    assert_eq!(code, 0, "bitmask of failed checks");
}

#[test]
fn kernel_notify_fd_reaches_an_agent_that_answers() {
    use nix::sys::socket::{
        recvmsg, socketpair, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType,
    };
    use std::io::IoSliceMut;
    use std::os::fd::{AsFd, AsRawFd, FromRawFd};

    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock","listenerMetadata":"m",
            "flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],"syscalls":[{"names":["getppid"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    );
    assert!(f.needs_listener());
    let state = oci_spec::runtime::State::default();
    let body = process_state_json(&state, 1234, Some("m"));
    let (agent, runtime) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .expect("socketpair");

    use nix::unistd::{fork, ForkResult};
    // SAFETY: as in `in_child`: the child makes syscalls on memory prepared before the fork, then _exit.
    let child = match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let code = (|| {
                let Ok(Some(fd)) = f.install() else { return 10 };
                if send_to_listener(runtime.as_fd(), fd.as_fd(), &body).is_err() {
                    return 11;
                }
                drop(fd);
                // Blocks until the agent answers.
                if sys(libc::SYS_getppid, [0; 3]) != 4242 {
                    return 12;
                }
                0
            })();
            // SAFETY: _exit ends the child without running the parent's atexit handlers or destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => child,
    };

    // The agent: read the state and the fd.
    let mut buf = vec![0u8; 8192];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let (n, fd) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(
            agent.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .expect("recvmsg");
        let mut fd = None;
        for c in msg.cmsgs().expect("cmsgs") {
            if let ControlMessageOwned::ScmRights(fds) = c {
                fd = fds.first().copied();
            }
        }
        (msg.bytes, fd.expect("an fd with the message"))
    };
    // SAFETY: the fd just arrived with SCM_RIGHTS and belongs to nobody else.
    let notify = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    let json: serde_json::Value = serde_json::from_slice(&buf[..n]).expect("state json");
    assert_eq!(json["fds"], serde_json::json!(["seccompFd"]));
    assert_eq!(json["pid"], 1234);
    assert_eq!(json["metadata"], "m");
    assert!(
        json.get("ociVersion").is_some() && json.get("state").is_some(),
        "{json}"
    );

    // SAFETY: all-zero is a valid seccomp_notif / seccomp_notif_resp (plain integers).
    let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: `req` is a live seccomp_notif the kernel fills; the fd is a seccomp notify fd.
    let rc = unsafe { libc::ioctl(notify.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut req) };
    assert_eq!(rc, 0, "NOTIF_RECV: {}", std::io::Error::last_os_error());
    assert_eq!(req.data.nr, libc::SYS_getppid as i32);
    // SAFETY: as above.
    let mut resp: libc::seccomp_notif_resp = unsafe { std::mem::zeroed() };
    resp.id = req.id;
    resp.val = 4242;
    // SAFETY: `resp` is a live seccomp_notif_resp the kernel reads.
    let rc = unsafe {
        libc::ioctl(
            notify.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &mut resp,
        )
    };
    assert_eq!(rc, 0, "NOTIF_SEND: {}", std::io::Error::last_os_error());

    let status = nix::sys::wait::waitpid(child, None).expect("waitpid");
    assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
}

#[test]
fn install_error_names_the_call_and_flags() {
    // An empty program is invalid: the kernel answers EINVAL; the message names the call and flags.
    let f = CompiledFilter {
        program: Vec::new(),
        flags: libc::SECCOMP_FILTER_FLAG_LOG,
        listener: false,
    };
    let code = in_child(|| match f.install() {
        Err(SeccompError::Install {
            source: nix::errno::Errno::EINVAL,
            ..
        }) => 0,
        _ => 1,
    });
    assert_eq!(code, 0);
    let e = SeccompError::Install {
        flags: libc::SECCOMP_FILTER_FLAG_LOG | libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
        source: nix::errno::Errno::EINVAL,
    };
    assert_eq!(
        e.to_string(),
        "seccomp(SECCOMP_SET_MODE_FILTER, flags LOG|NEW_LISTENER)"
    );
}

/// An i386 syscall through `int 0x80`, with arguments 0: the kernel reports it as AUDIT_ARCH_I386.
fn sys_i386(nr: u32) -> i64 {
    let ret: u64;
    // SAFETY: `int 0x80` with zeroed ebx/ecx/edx makes one syscall whose arguments are 0 (no pointers are
    // read); it clobbers only rax (the result) and the saved-and-restored rbx, which LLVM reserves.
    unsafe {
        std::arch::asm!(
            "xchg {tmp}, rbx",
            "int 0x80",
            "xchg {tmp}, rbx",
            tmp = inout(reg) 0u64 => _,
            inlateout("rax") nr as u64 => ret,
            in("rcx") 0u64,
            in("rdx") 0u64,
        );
    }
    ret as u32 as i32 as i64
}

#[test]
fn kernel_judges_int80_with_the_i386_table_and_kills_unlisted_arches() {
    if sys_i386(20) <= 0 {
        panic!(
            "this kernel has no IA32 emulation (int 0x80 getpid failed): cannot test the i386 ABI"
        );
    }
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
            "syscalls":[{"names":["getppid"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
                        {"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":77}]}"#,
    );
    let code = in_child(|| {
        if f.install().is_err() {
            return 100;
        }
        let mut bad = 0;
        if sys_i386(64) != -13 {
            bad |= 1; // i386 getppid
        }
        if sys_i386(20) != -77 {
            bad |= 2; // i386 getpid
        }
        if sys(libc::SYS_getppid, [0; 3]) != -13 {
            bad |= 4;
        }
        if sys(libc::SYS_getpid, [0; 3]) != -77 {
            bad |= 8;
        }
        if sys_i386(39) != -(libc::EFAULT as i64) {
            bad |= 16; // i386 39 is mkdir(NULL): allowed, fails with EFAULT
        }
        if sys(20, [u64::MAX, 0, 0]) != -(libc::EBADF as i64) {
            bad |= 32; // x86_64 20 is writev(-1): allowed
        }
        bad
    });
    assert_eq!(code, 0, "bitmask of failed checks");

    // Without SCMP_ARCH_X86, an int 0x80 syscall gets the bad-arch action: the child dies of SIGSYS.
    let f = compiled(r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"]}"#);
    let code = in_child(|| {
        if f.install().is_err() {
            return 100;
        }
        sys_i386(20);
        101
    });
    assert_eq!(code, 128 + libc::SIGSYS);
}

/// seccomp runs before the kernel looks at the x32 bit, so this works even where x32 is disabled.
#[test]
fn kernel_judges_x32_numbers_with_the_x32_table() {
    let x32 = |n: i64| n | 0x4000_0000;
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X32"],
            "syscalls":[{"names":["getppid"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
                        {"names":["rt_sigaction"],"action":"SCMP_ACT_ERRNO","errnoRet":77}]}"#,
    );
    let code = in_child(|| {
        if f.install().is_err() {
            return 100;
        }
        let mut bad = 0;
        if sys(x32(110), [0; 3]) != -13 {
            bad |= 1; // x32 getppid
        }
        if sys(x32(512), [0; 3]) != -77 {
            bad |= 2; // x32 rt_sigaction has its own number
        }
        if sys(libc::SYS_getppid, [0; 3]) != -13 {
            bad |= 4;
        }
        bad
    });
    assert_eq!(code, 0, "bitmask of failed checks");
    // x32 not listed: killed.
    let f = compiled(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#);
    let code = in_child(|| {
        if f.install().is_err() {
            return 100;
        }
        sys(x32(39), [0; 3]);
        101
    });
    assert_eq!(code, 128 + libc::SIGSYS);
}
