//! The init process, from clone to execve. Everything config-dependent was computed by brig
//! before the clone (`InitConfig`); this file is the straight-line sequence of kernel steps, each
//! numbered as in `sync.rs`. It never returns into brig's code: the trampoline reports an error
//! over the sync socket (or, after `create` has gone, on the container's stderr) and `_exit`s.

use nix::sched::CloneFlags;
use nix::unistd::{Gid, Uid};
use oci_spec::runtime::{Hook, LinuxNamespaceType};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use super::sync::{FromInit, ToInit};
use crate::capabilities::CapPlan;
use crate::namespaces::{self, Plan};
use crate::rootfs::{self, RootfsConfig};
use crate::sys::{Ctx, SysError};

#[derive(Debug, Clone, Copy)]
pub struct Rlimit {
    pub resource: libc::c_int,
    pub name: &'static str,
    pub soft: u64,
    pub hard: u64,
}

/// Everything the init needs, built by brig before the clone.
pub struct InitConfig {
    pub ns: Plan,
    /// One clone does it all (see `container::create`); false: an intermediate forks the init.
    pub fast_path: bool,
    pub uid_map: String,
    pub gid_map: String,
    pub rootfs: RootfsConfig,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub args: Vec<CString>,
    pub env: Vec<CString>,
    pub cwd: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub umask: u32,
    pub caps: Option<CapPlan>,
    pub rlimits: Vec<Rlimit>,
    pub no_new_privileges: bool,
    pub oom_score_adj: Option<i32>,
    pub personality: Option<libc::c_ulong>,
    pub apparmor: Option<String>,
    pub time_offsets: String,
    pub console: Option<OwnedFd>,
    pub console_size: Option<(u16, u16)>,
    /// O_PATH fd of the exec FIFO in the state dir.
    pub fifo: OwnedFd,
    pub preserve_fds: i32,
    pub sync: OwnedFd,
    pub runtime_hooks: bool,
    pub create_container_hooks: Vec<Hook>,
    pub start_container_hooks: Vec<Hook>,
    /// The state JSON for in-container hooks, with `"pid":0` to be replaced by the real pid.
    pub state_template: String,
    pub seccomp: Option<crate::seccomp::CompiledFilter>,
    /// Connected socket to the seccomp agent at `linux.seccomp.listenerPath`.
    pub seccomp_listener: Option<OwnedFd>,
    pub seccomp_metadata: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Sys(#[from] SysError),
    #[error(transparent)]
    Rootfs(#[from] crate::rootfs::RootfsError),
    #[error(transparent)]
    Caps(#[from] crate::capabilities::CapsError),
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    #[error(transparent)]
    Sync(#[from] super::sync::SyncError),
    #[error(transparent)]
    Tty(#[from] crate::tty::TtyError),
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
    #[error("process.rlimits ({name}): setrlimit: {errno}")]
    Rlimit {
        name: &'static str,
        errno: nix::Error,
    },
    #[error("process.oomScoreAdj: write /proc/self/oom_score_adj: {0}")]
    OomScoreAdj(std::io::Error),
    #[error("exec: `{0}`: executable file not found in $PATH")]
    NotFound(String),
    /// A program named by a path (it has a `/`) that does not exist: no $PATH search happened.
    #[error("exec: `{0}`: stat {0}: no such file or directory")]
    NoSuchFile(String),
    /// The program exists but execve says ENOENT: its interpreter (`#!`) or loader is missing.
    #[error(
        "exec: `{0}`: no such file or directory (its interpreter or dynamic loader is missing)"
    )]
    NoInterpreter(String),
    #[error("exec: `{0}`: permission denied")]
    NotExecutable(String),
    #[error("process.cwd `{path}`: {source}")]
    Cwd { path: PathBuf, source: SysError },
    #[error("linux.timeOffsets: write /proc/self/timens_offsets: {0}")]
    TimeOffsets(std::io::Error),
    #[error("process.apparmorProfile `{0}`: {1}")]
    AppArmor(String, std::io::Error),
}

impl InitError {
    pub(crate) fn errno(&self) -> i32 {
        match self {
            InitError::Sys(e) => e.errno as i32,
            InitError::NotFound(_) | InitError::NoSuchFile(_) | InitError::NoInterpreter(_) => {
                libc::ENOENT
            }
            InitError::NotExecutable(_) => libc::EACCES,
            _ => 0,
        }
    }
}

/// Entry point in the cloned child. Never returns.
pub fn run(cfg: InitConfig) -> ! {
    // Our own handle on the socket: `cfg` (and its fds) is gone when `init` returns an error.
    let keep = cfg.sync.try_clone();
    let sync = keep.as_ref().map(|f| f.as_raw_fd()).unwrap_or(-1);
    let err = match init(cfg) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    if matches!(err, InitError::Sync(super::sync::SyncError::Closed)) {
        // brig gave up on us (a hook failed, or it was killed) and reports the reason itself.
        // SAFETY: see below.
        unsafe { libc::_exit(1) }
    }
    // SAFETY: `sync` stays open until _exit (we never closed it on the error path).
    let sock = unsafe { BorrowedFd::borrow_raw(sync) };
    let msg = err.to_string();
    let failed = FromInit::Failed {
        errno: err.errno(),
        what: msg.clone(),
    };
    if READY.load(std::sync::atomic::Ordering::Relaxed) || failed.send(sock).is_err() {
        // brig create has gone (after Ready): the container's stderr is the only reader left.
        let _ = nix::unistd::write(std::io::stderr(), format!("brig: {msg}\n").as_bytes());
    }
    let code = match err {
        InitError::NotFound(_) | InitError::NoSuchFile(_) | InitError::NoInterpreter(_) => 127,
        InitError::NotExecutable(_) => 126,
        _ => 1,
    };
    // SAFETY: _exit ends this process at once, without running the parent's atexit handlers or
    // destructors on state copied from brig.
    unsafe { libc::_exit(code) }
}

enum Never {}

/// Set once `Ready` is sent (this process is single-threaded; the atomic is just a safe static).
static READY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn init(mut cfg: InitConfig) -> Result<Never, InitError> {
    let sync = cfg.sync.try_clone().map_err(|e| {
        SysError::new(
            "dup",
            "sync socket",
            nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })?;
    let sock = sync.as_fd();
    // Step 1: wait until brig has placed us in our cgroup (and written id maps).
    let ToInit::Go(mut host_pid) = ToInit::recv(sock)? else {
        return Err(super::sync::SyncError::Malformed(0).into());
    };
    if cfg.fast_path {
        for j in cfg
            .ns
            .join
            .iter()
            .filter(|j| !matches!(j.typ, LinuxNamespaceType::Pid | LinuxNamespaceType::Time))
        {
            namespaces::join(j)?;
        }
    } else {
        host_pid = intermediate(&cfg, sock)?;
    }
    cfg.ns.join.clear();
    if cfg.ns.creates(LinuxNamespaceType::Cgroup) {
        // Late, so the namespace is rooted at the cgroup brig placed us in.
        namespaces::unshare(CloneFlags::CLONE_NEWCGROUP)?;
    }
    nix::unistd::setsid().ctx("setsid", "")?;
    if cfg.ns.has(LinuxNamespaceType::User) {
        become_root()?;
    }
    if let Some(adj) = cfg.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(InitError::OomScoreAdj)?;
    }
    apply_rlimits(&cfg.rlimits)?;
    // Step 3: the rootfs, up to the hooks that need the runtime namespace.
    let root = rootfs::prepare(&cfg.rootfs)?;
    rootfs::mount_all(&cfg.rootfs, root.as_fd())?;
    rootfs::create_devices(&cfg.rootfs, root.as_fd())?;
    if cfg.runtime_hooks {
        FromInit::NeedHooks.send(sock)?;
        ToInit::recv(sock)?;
    }
    let state_json = cfg
        .state_template
        .replacen("\"pid\":0", &format!("\"pid\":{host_pid}"), 1);
    crate::hooks::run_all(
        "createContainer",
        &cfg.create_container_hooks,
        state_json.as_bytes(),
    )?;
    // Step 4: pivot and finish.
    drop(root);
    rootfs::pivot(&cfg.rootfs)?;
    if let Some(h) = &cfg.hostname {
        nix::unistd::sethostname(h).ctx("sethostname", h)?;
    }
    if let Some(d) = &cfg.domainname {
        // SAFETY: valid pointer/length pair of a live String.
        if unsafe { libc::setdomainname(d.as_ptr().cast(), d.len()) } < 0 {
            return Err(SysError::new("setdomainname", d.clone(), nix::Error::last()).into());
        }
    }
    if let Some(console) = cfg.console.take() {
        crate::tty::setup_console(console.as_fd(), cfg.uid, cfg.gid, cfg.console_size)?;
    }
    rootfs::finish(&cfg.rootfs)?;
    enter_cwd(&cfg.cwd)?;
    let env = with_home(cfg.env, cfg.uid);
    let program = find_program(&cfg.args[0], &env)?;
    FromInit::Ready.send(sock)?;
    // From here on brig may be gone: errors go to the container's stderr.
    READY.store(true, std::sync::atomic::Ordering::Relaxed);
    // Step 5: wait for `brig start`.
    let _started = wait_for_start(cfg.fifo.as_fd())?;
    drop(cfg.fifo);
    crate::hooks::run_all(
        "startContainer",
        &cfg.start_container_hooks,
        state_json.replace("\"created\"", "\"running\"").as_bytes(),
    )?;
    // The agent's message is built before the filter exists (no allocation under it).
    let listener_msg = cfg.seccomp_listener.as_ref().map(|_| {
        let st: Option<oci_spec::runtime::State> = serde_json::from_str(&state_json).ok();
        st.map(|st| {
            crate::seccomp::process_state_json(&st, host_pid, cfg.seccomp_metadata.as_deref())
        })
        .unwrap_or_default()
    });
    let notify = finalize_process(
        &cfg.seccomp,
        cfg.no_new_privileges,
        cfg.caps.as_ref(),
        cfg.uid,
        cfg.gid,
        &cfg.additional_gids,
        cfg.personality,
        cfg.apparmor.as_deref(),
    )?;
    if let (Some(fd), Some(sock), Some(msg)) = (notify, cfg.seccomp_listener.take(), listener_msg) {
        crate::seccomp::send_to_listener(sock.as_fd(), fd.as_fd(), &msg)?;
    }
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(cfg.umask));
    prepare_fds_for_exec(cfg.preserve_fds);
    reset_signals();
    drop(sync);
    drop(cfg.sync);
    Err(exec_program(&program, &cfg.args, &env))
}

/// process.rlimits, in order; the first refusal names the limit.
pub(crate) fn apply_rlimits(rlimits: &[Rlimit]) -> Result<(), InitError> {
    for r in rlimits {
        let lim = libc::rlimit {
            rlim_cur: r.soft,
            rlim_max: r.hard,
        };
        // SAFETY: setrlimit reads a valid rlimit struct; resource is a valid RLIMIT_* constant.
        if unsafe { libc::setrlimit(r.resource as _, &lim) } < 0 {
            return Err(InitError::Rlimit {
                name: r.name,
                errno: nix::Error::last(),
            });
        }
    }
    Ok(())
}

/// execve the resolved program; returns only the error, named as runc names it (127/126).
pub(crate) fn exec_program(program: &CString, args: &[CString], env: &[CString]) -> InitError {
    let err = nix::unistd::execve(program, args, env).unwrap_err();
    let name = args[0].to_string_lossy().into_owned();
    match err {
        nix::Error::EACCES => InitError::NotExecutable(name),
        // find_program saw the file: a missing `#!` interpreter or dynamic loader.
        nix::Error::ENOENT => InitError::NoInterpreter(name),
        e => SysError::new("execve", format!("`{}`", program.to_string_lossy()), e).into(),
    }
}

/// Step 2, slow path: join and create namespaces in the order the kernel needs, then fork the
/// real init (a new pid or time namespace only applies to children). Returns, in the init, its
/// host pid; the intermediate itself ends here.
fn intermediate(cfg: &InitConfig, sock: BorrowedFd) -> Result<i32, InitError> {
    for j in &cfg.ns.join {
        namespaces::join(j)?;
    }
    let mut flags = CloneFlags::from_bits_retain(cfg.ns.new.bits() & !libc::CLONE_NEWCGROUP);
    if flags.contains(CloneFlags::CLONE_NEWUSER) {
        namespaces::unshare(CloneFlags::CLONE_NEWUSER)?;
        FromInit::NeedIdMaps(nix::unistd::getpid().as_raw()).send(sock)?;
        ToInit::recv(sock)?;
        become_root()?;
        flags.remove(CloneFlags::CLONE_NEWUSER);
    }
    namespaces::unshare(flags)?;
    if !cfg.time_offsets.is_empty() {
        std::fs::write("/proc/self/timens_offsets", &cfg.time_offsets)
            .map_err(InitError::TimeOffsets)?;
    }
    // SAFETY: single-threaded (we are a fresh clone of single-threaded brig); the child only
    // continues this function's straight-line code.
    match unsafe { nix::unistd::fork() }.ctx("fork", "init")? {
        nix::unistd::ForkResult::Child => match ToInit::recv(sock)? {
            ToInit::Go(pid) => Ok(pid),
            ToInit::Continue => Err(super::sync::SyncError::Malformed(2).into()),
        },
        nix::unistd::ForkResult::Parent { child } => {
            let _ = FromInit::Pid(child.as_raw()).send(sock);
            // SAFETY: see `run`: leave without running anything of brig's.
            unsafe { libc::_exit(0) }
        }
    }
}

/// In a user namespace: become its root, so the rest of the set-up has its capabilities.
fn become_root() -> Result<(), SysError> {
    nix::unistd::setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
        .ctx("setresgid", "0")?;
    nix::unistd::setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
        .ctx("setresuid", "0")
}

pub(crate) fn enter_cwd(cwd: &Path) -> Result<(), InitError> {
    let err = |source| InitError::Cwd {
        path: cwd.to_path_buf(),
        source,
    };
    match nix::unistd::chdir(cwd) {
        Ok(()) => Ok(()),
        Err(nix::Error::ENOENT) => {
            // runc creates a missing cwd.
            std::fs::create_dir_all(cwd).map_err(|e| {
                err(SysError::new(
                    "mkdir",
                    cwd.display().to_string(),
                    nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
                ))
            })?;
            nix::unistd::chdir(cwd)
                .ctx("chdir", cwd.display())
                .map_err(err)
        }
        Err(e) => Err(err(SysError::new("chdir", cwd.display().to_string(), e))),
    }
}

/// Add HOME from the container's /etc/passwd (or `/`) when the spec's env has none, as runc does.
pub(crate) fn with_home(mut env: Vec<CString>, uid: u32) -> Vec<CString> {
    if env.iter().any(|e| e.as_bytes().starts_with(b"HOME=")) {
        return env;
    }
    let home = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() >= 6 && f[2].parse() == Ok(uid)).then(|| f[5].to_string())
            })
        })
        .unwrap_or_else(|| "/".to_string());
    if let Ok(c) = CString::new(format!("HOME={home}")) {
        env.push(c);
    }
    env
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Resolve the program like execvp would, inside the container, before `Ready`: a missing
/// program fails `create`, not `start`.
pub(crate) fn find_program(arg0: &CString, env: &[CString]) -> Result<CString, InitError> {
    use std::os::unix::fs::PermissionsExt;
    let name = arg0.to_string_lossy().into_owned();
    let check = |p: &Path| -> Option<Result<(), InitError>> {
        let md = std::fs::metadata(p).ok()?;
        if md.is_file() && md.permissions().mode() & 0o111 != 0 {
            Some(Ok(()))
        } else {
            Some(Err(InitError::NotExecutable(name.clone())))
        }
    };
    if name.contains('/') {
        return match check(Path::new(&name)) {
            Some(Ok(())) => Ok(arg0.clone()),
            Some(Err(e)) => Err(e),
            None => Err(InitError::NoSuchFile(name)),
        };
    }
    let path = env
        .iter()
        .find_map(|e| {
            e.to_str()
                .ok()
                .and_then(|s| s.strip_prefix("PATH="))
                .map(str::to_string)
        })
        .unwrap_or_else(|| DEFAULT_PATH.to_string());
    let mut denied = None;
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let cand = Path::new(dir).join(&name);
        match check(&cand) {
            Some(Ok(())) => {
                return CString::new(cand.into_os_string().into_encoded_bytes())
                    .map_err(|_| InitError::NotFound(name.clone()))
            }
            Some(Err(e)) => denied = denied.or(Some(e)),
            None => {}
        }
    }
    Err(denied.unwrap_or(InitError::NotFound(name)))
}

/// Step 5: open the FIFO for writing (blocks until `brig start` opens it for reading), then
/// write the one byte that tells start we are going.
fn wait_for_start(fifo: BorrowedFd) -> Result<OwnedFd, SysError> {
    let path = format!("/proc/self/fd/{}", fifo.as_raw_fd());
    let fd = loop {
        match nix::fcntl::open(
            path.as_str(),
            nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        ) {
            Err(nix::Error::EINTR) => continue,
            r => break r.ctx("open", "exec fifo")?,
        }
    };
    nix::unistd::write(&fd, b"0").ctx("write", "exec fifo")?;
    // Kept open (close-on-exec) until execve: `brig start` reads EOF once the program runs,
    // and only then runs the poststart hooks.
    Ok(fd)
}

/// Identity and privileges, in the order the kernel allows: seccomp first when it needs
/// CAP_SYS_ADMIN (no noNewPrivileges), bounding set while still root, uid switch keeping caps,
/// the final sets, no_new_privs, then seccomp as the very last step.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finalize_process(
    seccomp: &Option<crate::seccomp::CompiledFilter>,
    nnp: bool,
    caps: Option<&CapPlan>,
    uid: u32,
    gid: u32,
    groups: &[u32],
    personality: Option<libc::c_ulong>,
    apparmor: Option<&str>,
) -> Result<Option<OwnedFd>, InitError> {
    let mut notify = None;
    if let Some(p) = personality {
        // SAFETY: personality(2) takes a plain integer.
        if unsafe { libc::personality(p) } < 0 {
            return Err(SysError::new("personality", format!("{p:#x}"), nix::Error::last()).into());
        }
    }
    if let Some(profile) = apparmor {
        let attr = if Path::new("/proc/self/attr/apparmor/exec").exists() {
            "/proc/self/attr/apparmor/exec"
        } else {
            "/proc/self/attr/exec"
        };
        std::fs::write(attr, format!("exec {profile}"))
            .map_err(|e| InitError::AppArmor(profile.to_string(), e))?;
    }
    if let (Some(filter), false) = (seccomp, nnp) {
        notify = filter.install()?;
    }
    if let Some(c) = caps {
        c.drop_bounding()?;
    }
    // SAFETY: prctl(PR_SET_KEEPCAPS) takes integers only.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) };
    let gids: Vec<Gid> = groups.iter().map(|g| Gid::from_raw(*g)).collect();
    match nix::unistd::setgroups(&gids) {
        // setgroups is denied in user namespaces set up with "setgroups deny".
        Ok(()) | Err(nix::Error::EPERM) if gids.is_empty() => {}
        r => r.ctx("setgroups", format!("{groups:?}"))?,
    }
    nix::unistd::setresgid(Gid::from_raw(gid), Gid::from_raw(gid), Gid::from_raw(gid))
        .ctx("setresgid", gid)?;
    nix::unistd::setresuid(Uid::from_raw(uid), Uid::from_raw(uid), Uid::from_raw(uid))
        .ctx("setresuid", uid)?;
    // SAFETY: as above.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) };
    if let Some(c) = caps {
        c.apply()?;
    }
    if nnp {
        // SAFETY: prctl(PR_SET_NO_NEW_PRIVS) takes integers only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
            return Err(SysError::new("prctl", "PR_SET_NO_NEW_PRIVS", nix::Error::last()).into());
        }
        if let Some(filter) = seccomp {
            notify = filter.install()?;
        }
    }
    Ok(notify)
}

/// fds 3..3+preserve pass to the program (close-on-exec cleared); every other fd >= 3 is marked
/// close-on-exec so nothing of brig's or the caller's leaks in.
pub(crate) fn prepare_fds_for_exec(preserve: i32) {
    let first_closed = 3 + preserve.max(0) as u32;
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags on fds in the range.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first_closed,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc < 0 {
        for fd in first_closed..first_closed + 1024 {
            let _ = nix::fcntl::fcntl(
                // SAFETY: fcntl on a possibly-closed fd just fails with EBADF.
                unsafe { BorrowedFd::borrow_raw(fd as RawFd) },
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
            );
        }
    }
    for fd in 3..first_closed as RawFd {
        // SAFETY: as above; a preserved fd that is not open just fails.
        let b = unsafe { BorrowedFd::borrow_raw(fd) };
        let _ = nix::fcntl::fcntl(
            b,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
        );
    }
}

/// Rust ignores SIGPIPE and brig may block signals: give the program the defaults.
pub(crate) fn reset_signals() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for sig in Signal::iterator() {
        if sig != Signal::SIGKILL && sig != Signal::SIGSTOP {
            // SAFETY: installing SIG_DFL is always sound.
            let _ = unsafe { sigaction(sig, &dfl) };
        }
    }
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&SigSet::empty()),
        None,
    );
}

/// Close every fd >= 3 that is not in `keep` (called first thing in the child: the caller's
/// stray fds and brig's state-dir lock must not live on in the waiting init).
pub fn close_other_fds(keep: &[RawFd], preserve: i32) {
    let mut keep: Vec<u32> = keep.iter().map(|&f| f as u32).collect();
    keep.sort_unstable();
    let mut start = 3 + preserve.max(0) as u32;
    let first = start;
    for k in keep.into_iter().filter(|&k| k >= first) {
        if k > start {
            // SAFETY: close_range closes only fds in [start, k-1], none of which we keep.
            unsafe { libc::syscall(libc::SYS_close_range, start, k - 1, 0) };
        }
        start = k + 1;
    }
    // SAFETY: as above, everything from `start` on is not ours to keep.
    unsafe { libc::syscall(libc::SYS_close_range, start, u32::MAX, 0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_lookup() {
        let env = vec![CString::new("PATH=/nonexistent:/bin:/usr/bin").unwrap()];
        assert!(find_program(&CString::new("sh").unwrap(), &env)
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with("/sh"));
        assert!(matches!(
            find_program(&CString::new("no-such-prog-xyz").unwrap(), &env),
            Err(InitError::NotFound(_))
        ));
        assert!(matches!(
            find_program(&CString::new("/etc/passwd").unwrap(), &env),
            Err(InitError::NotExecutable(_))
        ));
        let e = find_program(&CString::new("nope").unwrap(), &env).unwrap_err();
        assert_eq!(
            e.to_string(),
            "exec: `nope`: executable file not found in $PATH"
        );
        // a path is not looked up in $PATH: say what is missing, as runc does
        let e = find_program(&CString::new("/no/such/exe").unwrap(), &env).unwrap_err();
        assert!(matches!(e, InitError::NoSuchFile(_)));
        assert_eq!(
            e.to_string(),
            "exec: `/no/such/exe`: stat /no/such/exe: no such file or directory"
        );
        assert_eq!(e.errno(), libc::ENOENT);
    }

    #[test]
    fn home_is_added_once() {
        let env = with_home(vec![CString::new("A=1").unwrap()], 0);
        assert!(env.iter().any(|e| e.as_bytes().starts_with(b"HOME=")));
        let env = with_home(vec![CString::new("HOME=/x").unwrap()], 0);
        assert_eq!(env.len(), 1);
    }
}
