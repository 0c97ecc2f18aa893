//! Syscall probe for `tests/seccomp.rs`: makes a fixed list of raw x86_64 and i386 (`int 0x80`)
//! syscalls inside a container and prints `name rc errno` per line, so two runtimes' seccomp
//! filters can be compared by their output.
//!
//! Built by the test harness with plain `rustc` (std only, static glibc via `+crt-static`), not
//! part of the cargo workspace. Arguments are chosen so that a call the filter lets through
//! fails or changes only the probe: bad pointers, paths under `/nonexistent` (also as mount
//! target and with an unknown fs type: tmpfs ignores its source), invalid magic or flags, lengths
//! over the limit, fds that do not exist, ptrace of itself. The probe also refuses to run unless
//! it is pid 1 of a pid namespace, so it cannot be started on the host by mistake. Calls that would change the probe itself (clone, unshare, ptrace
//! TRACEME) run in a forked child that reports over a pipe.
//!
//! Usage: `probe` runs every entry; `probe NAME...` runs the entries whose name (the part before
//! `/`) or full label is listed; `probe --list` prints the labels.

use std::arch::asm;
use std::io::Write;

extern "C" {
    fn syscall(n: i64, ...) -> i64;
    fn __errno_location() -> *mut i32;
    fn fork() -> i32;
    fn _exit(code: i32) -> !;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn pipe(fds: *mut i32) -> i32;
    fn read(fd: i32, buf: *mut u8, n: usize) -> isize;
    fn write(fd: i32, buf: *const u8, n: usize) -> isize;
    fn close(fd: i32) -> i32;
    fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
}

#[derive(Clone, Copy, PartialEq)]
enum Abi {
    X64,
    I386,
}

/// How the result is printed: the value, or only its class where the value depends on the
/// process's state (an fd number, a child pid) rather than on the filter.
#[derive(Clone, Copy, PartialEq)]
enum Ret {
    Val,
    /// A new fd: printed as `fd` and closed.
    Fd,
    /// A child pid from clone: printed as `pid`; the child exits at once.
    Pid,
}

struct Probe {
    label: String,
    abi: Abi,
    nr: i64,
    args: [u64; 6],
    /// Run in a forked child (the call changes the calling process).
    child: bool,
    ret: Ret,
}

/// Memory below 4 GiB (MAP_32BIT) for strings and buffers, so i386 calls can point at them too.
struct Low {
    base: *mut u8,
    used: usize,
}

impl Low {
    fn new() -> Low {
        const PROT_RW: i32 = 0x1 | 0x2;
        const MAP_PRIVATE_ANON_32BIT: i32 = 0x02 | 0x20 | 0x40;
        // SAFETY: an anonymous private mapping; no existing memory is touched.
        let base = unsafe {
            mmap(
                std::ptr::null_mut(),
                1 << 16,
                PROT_RW,
                MAP_PRIVATE_ANON_32BIT,
                -1,
                0,
            )
        };
        assert!(base as isize > 0, "mmap(MAP_32BIT) failed");
        Low { base, used: 0 }
    }
    /// Copies `bytes` (plus a NUL) into low memory and returns the address.
    fn put(&mut self, bytes: &[u8]) -> u64 {
        assert!(self.used + bytes.len() + 1 <= 1 << 15, "low memory full");
        // SAFETY: the range lies inside the 64 KiB mapping (checked above) and nothing else uses it.
        let p = unsafe { self.base.add(self.used) };
        // SAFETY: as above; the source is a live slice.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
        // SAFETY: as above; the mapping starts zeroed, this keeps the NUL explicit.
        unsafe { *p.add(bytes.len()) = 0 };
        self.used = (self.used + bytes.len() + 1 + 15) & !15;
        p as u64
    }
    fn s(&mut self, text: &str) -> u64 {
        self.put(text.as_bytes())
    }
    /// A zeroed buffer of `n` bytes.
    fn buf(&mut self, n: usize) -> u64 {
        self.put(&vec![0u8; n])
    }
    /// Three 32-bit words: an i386 socketcall argument block.
    fn words(&mut self, w: [u32; 3]) -> u64 {
        let mut b = Vec::new();
        for x in w {
            b.extend_from_slice(&x.to_ne_bytes());
        }
        self.put(&b)
    }
}

const NEG1: u64 = u64::MAX;
const AT_FDCWD: u64 = -100i64 as u64;
const SIGCHLD: u64 = 17;
const CLONE_NEWTIME: u64 = 0x80;
const CLONE_NEWNS: u64 = 0x0002_0000;
const CLONE_NEWCGROUP: u64 = 0x0200_0000;
const CLONE_NEWUTS: u64 = 0x0400_0000;
const CLONE_NEWIPC: u64 = 0x0800_0000;
const CLONE_NEWUSER: u64 = 0x1000_0000;
const CLONE_NEWPID: u64 = 0x2000_0000;
const CLONE_NEWNET: u64 = 0x4000_0000;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_FS: u64 = 0x200;

fn probes(m: &mut Low) -> Vec<Probe> {
    let mut v = Vec::new();
    let mut add = |label: &str, abi: Abi, nr: i64, a: &[u64], child: bool, ret: Ret| {
        let mut args = [0u64; 6];
        args[..a.len()].copy_from_slice(a);
        v.push(Probe {
            label: label.to_string(),
            abi,
            nr,
            args,
            child,
            ret,
        });
    };
    use Abi::*;
    use Ret::*;
    let nonexist = m.s("/nonexistent");
    let nofs = m.s("nonexistentfs");
    let empty = m.s("");
    let root = m.s("/");
    let b = m.buf(4096);
    let log_action = m.put(&0x7ffc_0000u32.to_ne_bytes());
    let me = u64::from(std::process::id());

    // Harmless, allowed by every real profile.
    add("getpid", X64, 39, &[], false, Val);
    add("getppid", X64, 110, &[], false, Val);
    add("gettid", X64, 186, &[], false, Val);
    add("getuid", X64, 102, &[], false, Val);
    add("geteuid", X64, 107, &[], false, Val);
    add("getpgrp", X64, 111, &[], false, Val);
    add("uname", X64, 63, &[b], false, Val);
    add("close/bad-fd", X64, 3, &[1000], false, Val);
    add("kill/self-0", X64, 62, &[1, 0], false, Val);
    add("getrandom", X64, 318, &[b, 8, 0], false, Val);
    add("prctl/get-nnp", X64, 157, &[39], false, Val);
    add("prctl/get-seccomp", X64, 157, &[21], false, Val);
    add("seccomp/action-avail-log", X64, 317, &[2, 0, log_action], false, Val);
    add("arch_prctl/get-fs", X64, 158, &[0x1003, b], false, Val);
    add("modify_ldt/read", X64, 154, &[0, b, 16], false, Val);
    add("memfd_create", X64, 319, &[m.s("probe"), 1], false, Fd);
    add("pidfd_open/self", X64, 434, &[1, 0], false, Fd);
    add("rseq/null", X64, 334, &[0, 0, 0, 0], false, Val);
    add("landlock_create_ruleset/version", X64, 444, &[0, 0, 1], false, Val);
    add("futex_waitv/null", X64, 449, &[0, 0, 0, 0, 0], false, Val);
    add("cachestat/bad-fd", X64, 451, &[NEG1, 0, 0, 0], false, Val);
    add("mknodat/fifo", X64, 259, &[AT_FDCWD, m.s("/nonexistent/fifo"), 0o010600, 0], false, Val);

    // personality: podman and containerd allow only a few exact values (EQ on 64 bits).
    for (l, p) in [
        ("query", 0xffff_ffffu64),
        ("per-linux32", 0x8),
        ("uname26", 0x2_0000),
        ("uname26-linux32", 0x2_0008),
        ("addr-no-randomize", 0x4_0000),
        ("high-bit-linux32", 0x1_0000_0008),
        ("read-implies-exec", 0x40_0000),
        ("linux", 0),
    ] {
        add(&format!("personality/{l}"), X64, 135, &[p], false, Val);
    }

    // clone: containerd allows it only if (flags & namespace bits) == 0 (MASKED_EQ).
    for (l, f) in [
        ("plain", SIGCHLD),
        ("newns", CLONE_NEWNS | SIGCHLD),
        ("newuts", CLONE_NEWUTS | SIGCHLD),
        ("newipc", CLONE_NEWIPC | SIGCHLD),
        ("newuser", CLONE_NEWUSER | SIGCHLD),
        ("newpid", CLONE_NEWPID | SIGCHLD),
        ("newnet", CLONE_NEWNET | SIGCHLD),
        ("newcgroup", CLONE_NEWCGROUP | SIGCHLD),
        ("newtime-bit-as-signal", CLONE_NEWTIME),
        ("vfork-fs", CLONE_VFORK | CLONE_FS | SIGCHLD),
        ("high-bit", (1 << 32) | SIGCHLD),
        ("newns-in-high-word", (CLONE_NEWNS << 32) | SIGCHLD),
    ] {
        add(&format!("clone/{l}"), X64, 56, &[f, 0, 0, 0, 0], true, Pid);
    }
    add("clone3/null", X64, 435, &[0, 88], false, Val);
    for (l, f) in [
        ("none", 0),
        ("newns", CLONE_NEWNS),
        ("newuser", CLONE_NEWUSER),
        ("newnet", CLONE_NEWNET),
        ("newtime", CLONE_NEWTIME),
    ] {
        add(&format!("unshare/{l}"), X64, 272, &[f], true, Val);
    }
    add("setns/bad-fd", X64, 308, &[NEG1, 0], false, Val);

    // socket: podman refuses AF_NETLINK + NETLINK_AUDIT with EINVAL.
    for (l, a) in [
        ("inet-stream", [2u64, 1, 0]),
        ("inet6-dgram", [10, 2, 0]),
        ("unix-stream", [1, 1, 0]),
        ("netlink-route", [16, 3, 0]),
        ("netlink-audit", [16, 3, 9]),
        ("netlink-audit-high-word", [16 | (1 << 32), 3, 9]),
        ("vsock", [40, 1, 0]),
        ("packet-raw", [17, 3, 0]),
        ("inet-raw-icmp", [2, 3, 1]),
        ("alg", [38, 5, 0]),
    ] {
        add(&format!("socket/{l}"), X64, 41, &a, false, Fd);
    }

    // Privileged or dangerous calls, with arguments that make them fail harmlessly.
    add("mount/nonexistent", X64, 165, &[nonexist, nonexist, nofs, 0, 0], false, Val);
    add("umount2/nonexistent", X64, 166, &[nonexist, 0], false, Val);
    add("pivot_root/nonexistent", X64, 155, &[nonexist, nonexist], false, Val);
    add("chroot/nonexistent", X64, 161, &[nonexist], false, Val);
    add("keyctl/bad-cmd", X64, 250, &[0xffff, 0, 0, 0, 0], false, Val);
    add("add_key/null", X64, 248, &[0, 0, 0, 0, 0], false, Val);
    add("request_key/null", X64, 249, &[0, 0, 0, 0], false, Val);
    add("ptrace/attach-self", X64, 101, &[16, me, 0, 0], false, Val);
    add("ptrace/peek-nopid", X64, 101, &[2, 99999, 0, 0], false, Val);
    add("ptrace/traceme", X64, 101, &[0, 0, 0, 0], true, Val);
    add("bpf/map-create-null", X64, 321, &[0, 0, 0], false, Val);
    add("perf_event_open/null", X64, 298, &[0, 0, NEG1, NEG1, 0], false, Val);
    add("kexec_load/bad-flags", X64, 246, &[0, 1000, 0, 0x100], false, Val);
    add("kexec_file_load/bad-fd", X64, 320, &[NEG1, NEG1, 0, 0, 0], false, Val);
    add("init_module/null", X64, 175, &[0, 0, empty], false, Val);
    add("finit_module/bad-fd", X64, 313, &[NEG1, empty, 0], false, Val);
    add("delete_module/nonexistent", X64, 176, &[m.s("nonexistent"), 0], false, Val);
    add("reboot/bad-magic", X64, 169, &[0, 0, 0, 0], false, Val);
    add("clock_settime/null", X64, 227, &[0, 0], false, Val);
    add("settimeofday/null", X64, 164, &[0, 0], false, Val);
    // A struct timex of its own: `b` holds earlier calls' output (getrandom), and modes must be 0.
    add("clock_adjtime/read", X64, 305, &[0, m.buf(256)], false, Val);
    add("swapon/nonexistent", X64, 167, &[nonexist, 0], false, Val);
    add("swapoff/nonexistent", X64, 168, &[nonexist], false, Val);
    add("acct/nonexistent", X64, 163, &[nonexist], false, Val);
    add("mknod/chardev", X64, 133, &[m.s("/nonexistent/null"), 0o020600, 0x103], false, Val);
    add("open_by_handle_at/bad-fd", X64, 304, &[NEG1, 0, 0], false, Val);
    add("name_to_handle_at/null", X64, 303, &[AT_FDCWD, root, 0, 0, 0], false, Val);
    add("userfaultfd", X64, 323, &[0x80000], false, Fd);
    add("io_uring_setup/null", X64, 425, &[0, 0], false, Val);
    add("io_uring_enter/bad-fd", X64, 426, &[NEG1, 0, 0, 0, 0, 0], false, Val);
    add("ioprio_get/self", X64, 252, &[1, 0], false, Val);
    add("ioprio_set/self-none", X64, 251, &[1, 0, 0], false, Val);
    add("mbind/empty", X64, 237, &[0, 0, 0, 0, 0, 0], false, Val);
    add("set_mempolicy/default", X64, 238, &[0, 0, 0], false, Val);
    add("get_mempolicy/null", X64, 239, &[0, 0, 0, 0, 0], false, Val);
    add("migrate_pages/null", X64, 256, &[0, 0, 0, 0], false, Val);
    add("move_pages/none", X64, 279, &[0, 0, 0, 0, 0, 0], false, Val);
    add("lookup_dcookie/null", X64, 212, &[0, 0, 0], false, Val);
    add("quotactl/null", X64, 179, &[0, 0, 0, 0], false, Val);
    add("quotactl_fd/bad-fd", X64, 443, &[NEG1, 0, 0, 0], false, Val);
    add("nfsservctl", X64, 180, &[0, 0, 0], false, Val);
    add("syslog/size-buffer", X64, 103, &[10, 0, 0], false, Val);
    add("uselib/null", X64, 134, &[0], false, Val);
    add("ustat/null", X64, 136, &[0, 0], false, Val);
    add("sysfs/count", X64, 139, &[3], false, Val);
    add("_sysctl/null", X64, 156, &[0], false, Val);
    add("fanotify_init/none", X64, 300, &[0, 0], false, Fd);
    add("fanotify_mark/bad-fd", X64, 301, &[NEG1, 0, 0, NEG1, 0], false, Val);
    add("create_module", X64, 174, &[0, 0], false, Val);
    add("get_kernel_syms", X64, 177, &[0], false, Val);
    add("query_module", X64, 178, &[0, 0, 0, 0, 0], false, Val);
    add("iopl/zero", X64, 172, &[0], false, Val);
    add("ioperm/none", X64, 173, &[0, 0, 0], false, Val);
    add("vmsplice/bad-fd", X64, 278, &[NEG1, 0, 0, 0], false, Val);
    add("kcmp/self", X64, 312, &[1, 1, 0, 0, 0], false, Val);
    add("process_vm_readv/none", X64, 310, &[1, 0, 0, 0, 0, 0], false, Val);
    add("process_madvise/bad-fd", X64, 440, &[NEG1, 0, 0, 0, 0], false, Val);
    add("pidfd_getfd/bad-fd", X64, 438, &[NEG1, 0, 0], false, Val);
    add("memfd_secret", X64, 447, &[0x80000], false, Fd);
    add("open_tree/nonexistent", X64, 428, &[AT_FDCWD, nonexist, 0], false, Val);
    add("move_mount/bad-fd", X64, 429, &[NEG1, empty, NEG1, empty, 0], false, Val);
    add("fsopen/nonexistent", X64, 430, &[nofs, 0], false, Val);
    add("fsconfig/bad-fd", X64, 431, &[NEG1, 0, 0, 0, 0], false, Val);
    add("fsmount/bad-fd", X64, 432, &[NEG1, 0, 0], false, Val);
    add("fspick/nonexistent", X64, 433, &[AT_FDCWD, nonexist, 0], false, Val);
    add("mount_setattr/bad-fd", X64, 442, &[NEG1, empty, 0, 0, 0], false, Val);
    add("sethostname/too-long", X64, 170, &[0, 1000], false, Val);
    add("setdomainname/too-long", X64, 171, &[0, 1000], false, Val);
    add("mseal/empty", X64, 462, &[0, 0, 0], false, Val);
    add("listns/null", X64, 470, &[0, 0, 0, 0], false, Val);
    add("unknown/500", X64, 500, &[], false, Val);
    add("x32/getpid", X64, 0x4000_0000 | 39, &[], false, Val);

    // i386 through int 0x80: numbers whose x86_64 meaning differs.
    let sock_inet = m.words([2, 1, 0]);
    let sock_audit = m.words([16, 3, 9]);
    add("i386-getpid", I386, 20, &[], false, Val); // x86_64 20: writev
    add("i386-getppid", I386, 64, &[], false, Val); // x86_64 64: semget
    add("i386-getuid32", I386, 199, &[], false, Val); // x86_64 199: fremovexattr
    add("i386-personality/query", I386, 136, &[0xffff_ffff], false, Val); // x86_64 136: ustat
    add("i386-personality/addr-no-randomize", I386, 136, &[0x4_0000], false, Val);
    add("i386-personality/linux", I386, 136, &[0], false, Val);
    add("i386-sysfs/count", I386, 135, &[3], false, Val); // x86_64 135: personality
    add("i386-ustat/null", I386, 62, &[0, 0], false, Val); // x86_64 62: kill
    add("i386-mount/nonexistent", I386, 21, &[nonexist, nonexist, nofs, 0, 0], false, Val); // access
    add("i386-umount2/nonexistent", I386, 52, &[nonexist, 0], false, Val); // getpeername
    add("i386-mkdir/nonexistent", I386, 39, &[m.s("/nonexistent/dir"), 0o755], false, Val); // getpid
    add("i386-vm86old/null", I386, 113, &[0], false, Val); // x86_64 113: setreuid
    add("i386-vm86/null", I386, 166, &[0, 0], false, Val); // x86_64 166: umount2
    add("i386-ptrace/attach-self", I386, 26, &[16, me, 0, 0], false, Val); // msync
    add("i386-reboot/bad-magic", I386, 88, &[0, 0, 0, 0], false, Val); // symlink
    add("i386-kexec_load/bad-flags", I386, 283, &[0, 1000, 0, 0x100], false, Val); // timerfd_create
    add("i386-bpf/null", I386, 357, &[0, 0, 0], false, Val); // none on x86_64
    add("i386-userfaultfd", I386, 374, &[0x80000], false, Fd); // none on x86_64
    add("i386-open_by_handle_at/bad-fd", I386, 342, &[NEG1, 0, 0], false, Val);
    add("i386-setns/bad-fd", I386, 346, &[NEG1, 0], false, Val);
    add("i386-sethostname/too-long", I386, 74, &[0, 1000], false, Val); // x86_64 74: fsync
    add("i386-clone/newns", I386, 120, &[CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0], true, Pid);
    add("i386-clone/newtime-bit-as-signal", I386, 120, &[CLONE_NEWTIME, 0, 0, 0, 0], true, Pid);
    add("i386-unshare/newns", I386, 310, &[CLONE_NEWNS], true, Val); // process_vm_readv
    add("i386-clone3/null", I386, 435, &[0, 88], false, Val);
    add("i386-socket/inet-stream", I386, 359, &[2, 1, 0], false, Fd);
    add("i386-socket/netlink-audit", I386, 359, &[16, 3, 9], false, Fd);
    add("i386-socketcall/socket-inet", I386, 102, &[1, sock_inet], false, Fd);
    add("i386-socketcall/socket-netlink-audit", I386, 102, &[1, sock_audit], false, Fd);
    add("i386-unknown/500", I386, 500, &[], false, Val);
    v
}

/// One x86_64 syscall: (rc, errno).
fn sys64(nr: i64, a: &[u64; 6]) -> (i64, i32) {
    // SAFETY: the errno slot of this thread is valid for the thread's life.
    unsafe { *__errno_location() = 0 };
    // SAFETY: every argument is an integer or a pointer into our own low mapping; entries whose
    // success would change this process run in a forked child (see `Probe::child`).
    let rc = unsafe { syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    // SAFETY: as above.
    let e = if rc == -1 { unsafe { *__errno_location() } } else { 0 };
    (rc, e)
}

/// One i386 syscall through `int 0x80`: the kernel reports it to seccomp as AUDIT_ARCH_I386 and
/// reads only the low 32 bits of each argument. Passes arguments 0 to 4 (ebp, the sixth, is left
/// alone: no i386 entry needs it). Returns (rc, errno).
fn sys32(nr: i64, a: &[u64; 6]) -> (i64, i32) {
    let ret: u64;
    // SAFETY: one compat syscall. rbx is reserved by LLVM, so it is swapped in and out around the
    // trap. Pointers in `a` point below 4 GiB (MAP_32BIT).
    // r8-r11 are declared clobbered because older kernels did not preserve them for int 0x80.
    unsafe {
        asm!(
            "xchg {b}, rbx",
            "int 0x80",
            "xchg {b}, rbx",
            b = inout(reg) a[0] => _,
            inlateout("rax") nr as u64 => ret,
            in("rcx") a[1],
            in("rdx") a[2],
            in("rsi") a[3],
            in("rdi") a[4],
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
    }
    let rc = ret as u32 as i32 as i64;
    if (-4095..0).contains(&rc) {
        (-1, -rc as i32)
    } else {
        (rc, 0)
    }
}

fn call(p: &Probe) -> (i64, i32) {
    match p.abi {
        Abi::X64 => sys64(p.nr, &p.args),
        Abi::I386 => sys32(p.nr, &p.args),
    }
}

/// Runs `p` in a forked child; the child reports (rc, errno) over a pipe. A clone that succeeds
/// leaves its own child, which exits at once (rc 0 in the new process).
fn in_child(p: &Probe) -> (i64, i32) {
    let mut fds = [0i32; 2];
    // SAFETY: pipe writes two fds into the array.
    assert_eq!(unsafe { pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: single-threaded probe; the child only makes raw syscalls and _exits.
    let pid = unsafe { fork() };
    if pid == 0 {
        let (rc, e) = call(p);
        if p.ret == Ret::Pid && rc == 0 && e == 0 {
            // SAFETY: the new process of a successful clone leaves at once.
            unsafe { _exit(0) };
        }
        let mut msg = [0u8; 12];
        msg[..8].copy_from_slice(&rc.to_ne_bytes());
        msg[8..].copy_from_slice(&e.to_ne_bytes());
        // SAFETY: writes our own buffer to our own pipe, then reaps a clone child, then exits.
        unsafe {
            write(fds[1], msg.as_ptr(), 12);
            if rc > 0 {
                waitpid(rc as i32, std::ptr::null_mut(), 0x4000_0000); // __WALL
            }
            _exit(0)
        }
    }
    assert!(pid > 0, "fork failed");
    let mut msg = [0u8; 12];
    // SAFETY: reads into our buffer, closes our pipe ends, reaps our child.
    let n = unsafe {
        close(fds[1]);
        let n = read(fds[0], msg.as_mut_ptr(), 12);
        close(fds[0]);
        waitpid(pid, std::ptr::null_mut(), 0x4000_0000);
        n
    };
    if n != 12 {
        return (-2, 0); // the child died before reporting (e.g. SIGSYS)
    }
    (
        i64::from_ne_bytes(msg[..8].try_into().unwrap()),
        i32::from_ne_bytes(msg[8..].try_into().unwrap()),
    )
}

fn main() {
    let want: Vec<String> = std::env::args().skip(1).collect();
    let mut low = Low::new();
    let all = probes(&mut low);
    if want.first().map(String::as_str) == Some("--list") {
        for p in &all {
            println!("{}", p.label);
        }
        return;
    }
    // Inside a container the probe is pid 1 of its own pid namespace. Anywhere else some of the
    // calls could reach the host (they are chosen to fail, but a profile test must never depend
    // on that), so refuse.
    if std::process::id() != 1 {
        eprintln!("probe: refusing to run outside a container (not pid 1)");
        std::process::exit(2);
    }
    let out = std::io::stdout();
    let mut out = out.lock();
    for p in &all {
        let short = p.label.split('/').next().unwrap_or("");
        if !want.is_empty() && !want.iter().any(|w| w == &p.label || w == short) {
            continue;
        }
        let (rc, e) = if p.child { in_child(p) } else { call(p) };
        let shown = match p.ret {
            Ret::Fd if rc >= 0 => {
                // SAFETY: closes the fd this call just created.
                unsafe { close(rc as i32) };
                "fd".to_string()
            }
            Ret::Pid if rc > 0 => "pid".to_string(),
            _ => rc.to_string(),
        };
        writeln!(out, "{} {} {}", p.label, shown, e).unwrap();
        out.flush().unwrap();
    }
}
