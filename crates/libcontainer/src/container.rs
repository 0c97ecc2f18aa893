//! Container lifecycle, as the CLI drives it: create, start, state, kill, delete, and the
//! foreground wait of `run`. Works on the state directory (`state.rs`) and the init process
//! (`process/`). Everything that depends on config.json is computed here, before the clone.

use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::cgroups::{Cgroup, CgroupError};
use crate::process::clone::{clone_process, Forked};
use crate::process::init::{close_other_fds, InitConfig, Rlimit};
use crate::process::sync::{self, FromInit, SyncError, ToInit};
use crate::rootfs::{device, mount, RootfsConfig};
use crate::spec::{self, SpecError};
use crate::state::{self, State, StateDir, StateError, Status};
use crate::sys::{Ctx, SysError};

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Namespace(#[from] crate::namespaces::NamespaceError),
    #[error(transparent)]
    Mount(#[from] mount::OptionError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Tty(#[from] crate::tty::TtyError),
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    #[error(transparent)]
    Sys(#[from] SysError),
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
    #[error("{0}")]
    Config(String),
    /// The init reported a failure (its text is the reason) or died before it was ready.
    #[error("{0}")]
    Init(String),
    #[error("sync with init: {0}")]
    Sync(#[from] SyncError),
    #[error("container not running")]
    NotRunning,
    #[error("container not paused")]
    NotPaused,
    /// `exec` could not start its program; `code` is the exit status runc gives (127, 126, 1).
    #[error("{what}")]
    Exec { code: i32, what: String },
    #[error("cannot {action} container in state `{status}`")]
    WrongState {
        action: &'static str,
        status: Status,
    },
    #[error("pid file `{path}`: {source}")]
    PidFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, ContainerError>;

fn config(msg: impl Into<String>) -> ContainerError {
    ContainerError::Config(msg.into())
}

/// Options of `create` (and `run`).
#[derive(Debug, Default)]
pub struct CreateOptions {
    pub root: PathBuf,
    pub id: String,
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    /// For `run -t` without a console socket: brig itself receives the pty master here.
    pub console_fd: Option<OwnedFd>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: i32,
    pub systemd_cgroup: bool,
    pub rootless: bool,
}

/// Undo what a failed create made: the init, the cgroup, the state dir.
struct CreateGuard {
    init: Option<i32>,
    intermediate: Option<i32>,
    cgroup: Option<Cgroup>,
    dir: Option<StateDir>,
}

impl Drop for CreateGuard {
    fn drop(&mut self) {
        for pid in [self.intermediate.take(), self.init.take()]
            .into_iter()
            .flatten()
        {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(pid), None);
        }
        if let Some(cg) = self.cgroup.take() {
            let _ = cg.destroy();
        }
        if let Some(d) = self.dir.take() {
            let _ = d.remove();
        }
    }
}

/// `brig create`: returns once the init is set up and waiting on the exec FIFO.
pub fn create(mut opts: CreateOptions, log: &dyn Fn(tracing::Level, &str)) -> Result<State> {
    let bundle = spec::load_bundle(&opts.bundle)?;
    let dir = StateDir::create(&opts.root, &opts.id)?;
    let mut guard = CreateGuard {
        init: None,
        intermediate: None,
        cgroup: None,
        dir: None,
    };
    guard.dir = Some(dir);
    let spec = &bundle.spec;
    let linux = spec.linux().clone().unwrap_or_default();
    let process = spec.process().clone().unwrap_or_default();
    let namespaces = linux.namespaces().clone().unwrap_or_default();
    let ns = crate::namespaces::Plan::from_spec(&namespaces)?;
    if !ns.creates(LinuxNamespaceType::Mount) {
        return Err(config(
            "linux.namespaces: brig needs a new mount namespace (type `mount` without a path)",
        ));
    }
    check_sysctls(&linux, &ns)?;
    if linux
        .mount_label()
        .as_deref()
        .is_some_and(|l| !l.is_empty())
        && !Path::new("/sys/fs/selinux/enforce").exists()
    {
        return Err(config(
            "linux.mountLabel: SELinux is not enabled on this host",
        ));
    }
    if process
        .selinux_label()
        .as_deref()
        .is_some_and(|l| !l.is_empty())
        && !Path::new("/sys/fs/selinux/enforce").exists()
    {
        return Err(config(
            "process.selinuxLabel: SELinux is not enabled on this host",
        ));
    }
    let apparmor = process.apparmor_profile().clone().filter(|p| !p.is_empty());
    if apparmor.is_some()
        && std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
            .map(|s| s.trim() != "Y")
            .unwrap_or(true)
    {
        return Err(config(
            "process.apparmorProfile: AppArmor is not enabled on this host",
        ));
    }
    if linux.intel_rdt().is_some() {
        return Err(config("linux.intelRdt: Intel RDT is not supported by brig"));
    }
    if linux.net_devices().as_ref().is_some_and(|d| !d.is_empty()) {
        return Err(config(
            "linux.netDevices: moving network devices is not supported by brig",
        ));
    }
    if linux.memory_policy().is_some() {
        return Err(config(
            "linux.memoryPolicy: NUMA memory policy is not supported by brig",
        ));
    }
    let terminal = process.terminal().unwrap_or(false);
    let console = match (terminal, &opts.console_socket, opts.console_fd.take()) {
        (true, Some(p), _) => Some(crate::tty::connect(p)?),
        (true, None, Some(fd)) => Some(fd),
        (true, None, None) => {
            return Err(config(
                "process.terminal is true: --console-socket is required",
            ))
        }
        (false, Some(_), _) => {
            return Err(config(
                "--console-socket given but process.terminal is false",
            ))
        }
        (false, None, _) => None,
    };
    let seccomp = match linux.seccomp() {
        Some(s) => Some(crate::seccomp::compile(s)?),
        None => None,
    };

    // Cgroup first, so the init can be born in it.
    let mut cgroup = Cgroup::new(
        linux.cgroups_path().as_deref(),
        &opts.id,
        opts.systemd_cgroup,
    )?;
    guard.cgroup = Some(cgroup.clone());
    let made = cgroup.create(linux.resources().as_ref());
    guard.cgroup = Some(cgroup.clone());
    made?;

    let dir = guard.dir.as_ref().expect("state dir");
    let min_fd = 3 + opts.preserve_fds.max(0);
    let fifo_path = dir.fifo_path();
    nix::unistd::mkfifo(&fifo_path, nix::sys::stat::Mode::from_bits_truncate(0o622))
        .ctx("mkfifo", fifo_path.display())?;
    // mkfifo's mode is filtered by our umask; the init (maybe root of a user namespace, i.e.
    // "other" to this file) must be able to open it for writing.
    nix::sys::stat::fchmodat(
        nix::fcntl::AT_FDCWD,
        &fifo_path,
        nix::sys::stat::Mode::from_bits_truncate(0o622),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
    .ctx("chmod", fifo_path.display())?;
    if let (Some(uid), Some(gid)) = (
        host_id_of_root(linux.uid_mappings()),
        host_id_of_root(linux.gid_mappings()),
    ) {
        nix::unistd::chown(&fifo_path, Some(uid.into()), Some(gid.into()))
            .ctx("chown", fifo_path.display())?;
    }
    let fifo = nix::fcntl::open(
        &fifo_path,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .ctx("open", fifo_path.display())?;
    let (ours, theirs) = sync::pair()?;
    // Our fds must not sit where the preserved fds go.
    let fifo = above(fifo, min_fd)?;
    let theirs = above(theirs, min_fd)?;
    let console = console.map(|c| above(c, min_fd)).transpose()?;
    let seccomp_listener = match (
        &seccomp,
        linux
            .seccomp()
            .as_ref()
            .and_then(|s| s.listener_path().clone()),
    ) {
        (Some(f), Some(path)) if f.needs_listener() => {
            Some(above(crate::seccomp::connect_listener(&path)?, min_fd)?)
        }
        _ => None,
    };

    let user = process.user();
    let hooks = spec.hooks().clone().unwrap_or_default();
    let (caps, warnings) = match process.capabilities() {
        Some(c) => {
            let (p, w) = crate::capabilities::CapPlan::from_spec(c);
            (Some(p), w)
        }
        None => (None, Vec::new()),
    };
    for w in warnings {
        log(tracing::Level::WARN, &w);
    }
    let in_userns = ns.has(LinuxNamespaceType::User);
    let mut env: Vec<String> = process.env().clone().unwrap_or_default();
    let mut preserve_fds = opts.preserve_fds.max(0);
    if let Some(n) = listen_fds() {
        env.retain(|e| !e.starts_with("LISTEN_FDS=") && !e.starts_with("LISTEN_PID="));
        env.push(format!("LISTEN_FDS={n}"));
        env.push("LISTEN_PID=1".into());
        preserve_fds = preserve_fds.max(n);
    }
    let now = std::time::SystemTime::now();
    let mut st = State {
        id: opts.id.clone(),
        pid: 0,
        pid_start: 0,
        bundle: bundle.dir.clone(),
        rootfs: bundle.rootfs.clone(),
        created: crate::time::rfc3339_nanos(now),
        annotations: spec.annotations().clone().unwrap_or_default(),
        owner: String::new(),
        cgroup: serde_json::to_value(&cgroup).ok(),
        systemd_cgroup: opts.systemd_cgroup,
        rootless: opts.rootless,
    };
    let state_template = serde_json::to_string(&st.oci(Status::Creating)).unwrap_or_default();
    let uid_map = id_map(linux.uid_mappings());
    let gid_map = id_map(linux.gid_mappings());
    let new_time = ns.creates(LinuxNamespaceType::Time);
    let needs_parent_side_join = ns
        .join
        .iter()
        .any(|j| !matches!(j.typ, LinuxNamespaceType::Pid | LinuxNamespaceType::Time));
    // One clone does it all unless the init must join or unshare in a particular order first:
    // a new time namespace (offsets are written before anything enters it), joining a user
    // namespace, or a new user namespace plus namespaces to join (those must be joined first).
    let fast_path = !(new_time
        || ns.joins(LinuxNamespaceType::User)
        || ns.creates(LinuxNamespaceType::User) && needs_parent_side_join);
    let cfg = InitConfig {
        fast_path,
        uid_map: uid_map.clone(),
        gid_map: gid_map.clone(),
        rootfs: rootfs_config(
            spec,
            &bundle.rootfs,
            &bundle.dir,
            &opts,
            in_userns,
            ns.has(LinuxNamespaceType::Cgroup),
        )?,
        hostname: spec.hostname().clone().filter(|h| !h.is_empty()),
        domainname: spec.domainname().clone().filter(|h| !h.is_empty()),
        args: cstrings(
            "process.args",
            process.args().as_deref().unwrap_or_default(),
        )?,
        env: cstrings("process.env", &env)?,
        cwd: process.cwd().clone(),
        uid: user.uid(),
        gid: user.gid(),
        additional_gids: user.additional_gids().clone().unwrap_or_default(),
        umask: user.umask().unwrap_or(0o022),
        caps,
        rlimits: rlimits(process.rlimits().as_deref().unwrap_or_default())?,
        no_new_privileges: process.no_new_privileges().unwrap_or(false),
        oom_score_adj: process.oom_score_adj(),
        personality: personality(&linux)?,
        apparmor,
        time_offsets: time_offsets(&linux)?,
        console,
        console_size: process
            .console_size()
            .map(|b| (b.height() as u16, b.width() as u16)),
        fifo,
        preserve_fds,
        sync: theirs,
        runtime_hooks: hooks.prestart().as_ref().is_some_and(|h| !h.is_empty())
            || hooks
                .create_runtime()
                .as_ref()
                .is_some_and(|h| !h.is_empty()),
        create_container_hooks: hooks.create_container().clone().unwrap_or_default(),
        start_container_hooks: hooks.start_container().clone().unwrap_or_default(),
        state_template,
        seccomp,
        seccomp_listener,
        seccomp_metadata: linux
            .seccomp()
            .as_ref()
            .and_then(|s| s.listener_metadata().clone()),
        ns,
    };
    if (cfg.rootfs.in_userns || cfg.hostname.is_some())
        && cfg.hostname.is_some()
        && !cfg.ns.has(LinuxNamespaceType::Uts)
    {
        return Err(config(
            "hostname: setting a hostname needs a `uts` namespace",
        ));
    }
    if cfg.domainname.is_some() && !cfg.ns.has(LinuxNamespaceType::Uts) {
        return Err(config(
            "domainname: setting a domainname needs a `uts` namespace",
        ));
    }
    if cfg.ns.creates(LinuxNamespaceType::Time) && !Path::new("/proc/self/ns/time").exists() {
        return Err(config(
            "linux.namespaces: time namespaces are not supported by this kernel",
        ));
    }

    // Step 1: clone. In the fast path the parent joins pid/time namespaces "for children" so
    // the single clone lands in them; restored right after.
    let mut flags = CloneFlags::from_bits_retain(cfg.ns.new.bits() & !libc::CLONE_NEWCGROUP);
    let mut restore = Vec::new();
    if fast_path {
        for j in cfg
            .ns
            .join
            .iter()
            .filter(|j| matches!(j.typ, LinuxNamespaceType::Pid | LinuxNamespaceType::Time))
        {
            let own = std::fs::File::open(format!(
                "/proc/self/ns/{}_for_children",
                crate::namespaces::proc_name(j.typ)
            ))
            .or_else(|_| {
                std::fs::File::open(format!(
                    "/proc/self/ns/{}",
                    crate::namespaces::proc_name(j.typ)
                ))
            })
            .map_err(|e| {
                config(format!(
                    "open own {} namespace: {e}",
                    crate::namespaces::proc_name(j.typ)
                ))
            })?;
            crate::namespaces::join(j)?;
            restore.push((j.typ, OwnedFd::from(own)));
        }
    } else {
        flags = CloneFlags::empty();
    }
    let cgroup_fd = cgroup.clone_into_fd();
    // OOM kills so far in the cgroup (a given cgroupsPath may have a history): died_early
    // blames the memory limit only for new ones.
    let ooms_before = cgroup.oom_count().unwrap_or(0);
    let keep: Vec<i32> = [cfg.sync.as_raw_fd(), cfg.fifo.as_raw_fd()]
        .into_iter()
        .chain(cfg.console.as_ref().map(|c| c.as_raw_fd()))
        .chain(cfg.seccomp_listener.as_ref().map(|c| c.as_raw_fd()))
        .chain(cfg.ns.join.iter().map(|j| j.fd.as_raw_fd()))
        .collect();
    let forked = clone_process(flags.bits() as u64, cgroup_fd.as_ref().map(|f| f.as_fd()));
    if matches!(forked, Ok(Forked::Parent { .. })) {
        // Back to our own namespaces (the child keeps the joined ones: for a time namespace
        // setns moves the caller itself).
        for (typ, fd) in &restore {
            let _ = nix::sched::setns(fd.as_fd(), crate::namespaces::clone_flag(*typ));
        }
    }
    let (child, in_cgroup) = match forked? {
        Forked::Child => {
            close_other_fds(&keep, preserve_fds);
            // Closed by close_other_fds already: forget, do not close twice.
            std::mem::forget(ours);
            crate::process::init::run(cfg);
        }
        Forked::Parent { pid, in_cgroup } => (pid, in_cgroup),
    };
    drop(cfg);
    let sock = ours.as_fd();
    if fast_path {
        guard.init = Some(child);
    } else {
        guard.intermediate = Some(child);
    }
    cgroup.add_task(child, in_cgroup)?;
    if fast_path && flags.contains(CloneFlags::CLONE_NEWUSER) {
        write_id_maps(child, &uid_map, &gid_map)?;
    }
    match ToInit::Go(if fast_path { child } else { 0 }).send(sock) {
        Err(SyncError::Closed) => {
            return Err(ContainerError::Init(died_early(
                child,
                0,
                &cgroup,
                ooms_before,
            )))
        }
        r => r?,
    }
    let mut init_pid = if fast_path { child } else { 0 };
    loop {
        let msg = match FromInit::recv(sock) {
            Ok(m) => m,
            Err(SyncError::Closed) => {
                return Err(ContainerError::Init(died_early(
                    child,
                    init_pid,
                    &cgroup,
                    ooms_before,
                )))
            }
            Err(e) => return Err(e.into()),
        };
        match msg {
            FromInit::NeedIdMaps(pid) => {
                write_id_maps(pid, &uid_map, &gid_map)?;
                ToInit::Continue.send(sock)?;
            }
            FromInit::Pid(pid) => {
                init_pid = pid;
                guard.init = Some(pid);
                let _ = waitpid(Pid::from_raw(child), None);
                guard.intermediate = None;
                ToInit::Go(pid).send(sock)?;
            }
            FromInit::NeedHooks => {
                st.pid = init_pid;
                let json = serde_json::to_vec(&st.oci(Status::Creating)).unwrap_or_default();
                crate::hooks::run_all(
                    "prestart",
                    hooks.prestart().as_deref().unwrap_or_default(),
                    &json,
                )?;
                crate::hooks::run_all(
                    "createRuntime",
                    hooks.create_runtime().as_deref().unwrap_or_default(),
                    &json,
                )?;
                ToInit::Continue.send(sock)?;
            }
            FromInit::Warn(w) => log(tracing::Level::WARN, &w),
            FromInit::Failed { what, .. } => {
                return Err(ContainerError::Init(what));
            }
            FromInit::Ready => break,
        }
    }
    // Step 4 done: record the container and hand back.
    st.pid = init_pid;
    st.pid_start = state::pid_start_time(init_pid).unwrap_or(0);
    let dir = guard.dir.as_ref().expect("state dir");
    dir.save(&st)?;
    std::fs::write(dir.path.join(state::CONFIG_COPY), &bundle.raw).map_err(|source| {
        StateError::Io {
            what: "write",
            path: dir.path.join(state::CONFIG_COPY),
            source,
        }
    })?;
    if let Some(p) = &opts.pid_file {
        write_pid_file(p, init_pid)?;
    }
    // Success: disarm the guard (the state dir stays, unlocked on drop).
    guard.init = None;
    guard.cgroup = None;
    drop(guard.dir.take());
    Ok(st)
}

/// Describe an init that closed the sync socket without a word. Its cgroup's limits already
/// hold while it sets up: one killed by the OOM killer there says so (runc, which applies them
/// later, fails the write of a limit below the current usage instead).
fn died_early(child: i32, init: i32, cgroup: &Cgroup, ooms_before: u64) -> String {
    let pid = if init > 0 { init } else { child };
    match waitpid(Pid::from_raw(pid), None) {
        Ok(WaitStatus::Exited(_, code)) => {
            format!("container init exited with status {code} before it was ready")
        }
        Ok(WaitStatus::Signaled(_, Signal::SIGKILL, _))
            if cgroup.oom_count().is_ok_and(|n| n > ooms_before) =>
        {
            "container init was killed by the OOM killer before it was ready: \
             linux.resources.memory.limit is below what the container needs to start"
                .to_string()
        }
        Ok(WaitStatus::Signaled(_, sig, _)) => {
            format!("container init was killed by {sig} before it was ready")
        }
        _ => "container init exited before it was ready".to_string(),
    }
}

pub(crate) fn above(fd: OwnedFd, min: i32) -> Result<OwnedFd> {
    if fd.as_raw_fd() >= min {
        return Ok(fd);
    }
    let raw = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(min))
        .ctx("fcntl(F_DUPFD_CLOEXEC)", min)?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new fd that only we own.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) })
}

fn listen_fds() -> Option<i32> {
    let n: i32 = std::env::var("LISTEN_FDS").ok()?.parse().ok()?;
    let pid_ok = std::env::var("LISTEN_PID")
        .map(|p| p == std::process::id().to_string())
        .unwrap_or(true);
    (n > 0 && pid_ok).then_some(n)
}

pub(crate) fn cstrings(field: &str, v: &[String]) -> Result<Vec<CString>> {
    v.iter()
        .map(|s| {
            CString::new(s.as_bytes())
                .map_err(|_| config(format!("{field}: `{s}` contains a NUL byte")))
        })
        .collect()
}

fn id_map(m: &Option<Vec<oci_spec::runtime::LinuxIdMapping>>) -> String {
    m.iter()
        .flatten()
        .map(|e| format!("{} {} {}\n", e.container_id(), e.host_id(), e.size()))
        .collect()
}

/// The host id that container id 0 maps to, if the spec maps it.
fn host_id_of_root(m: &Option<Vec<oci_spec::runtime::LinuxIdMapping>>) -> Option<u32> {
    m.iter()
        .flatten()
        .find(|e| e.container_id() == 0 && e.size() > 0)
        .map(|e| e.host_id())
}

fn write_id_maps(pid: i32, uid_map: &str, gid_map: &str) -> Result<()> {
    for (file, map) in [("uid_map", uid_map), ("gid_map", gid_map)] {
        if map.is_empty() {
            continue;
        }
        let p = format!("/proc/{pid}/{file}");
        std::fs::write(&p, map)
            .map_err(|e| config(format!("linux.{}Mappings: write {p}: {e}", &file[..3])))?;
    }
    Ok(())
}

fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let err = |source| ContainerError::PidFile {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name()
            .map(|f| f.to_string_lossy())
            .unwrap_or_default()
    ));
    std::fs::write(&tmp, pid.to_string()).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// runc's rule: a sysctl may only be set in a namespace the container owns.
fn check_sysctls(linux: &oci_spec::runtime::Linux, ns: &crate::namespaces::Plan) -> Result<()> {
    for key in linux.sysctl().iter().flat_map(|m| m.keys()) {
        let ok = if key.starts_with("net.") {
            ns.has(LinuxNamespaceType::Network)
        } else if key.starts_with("kernel.msg")
            || key.starts_with("kernel.sem")
            || key.starts_with("kernel.shm")
            || key.starts_with("fs.mqueue.")
        {
            ns.has(LinuxNamespaceType::Ipc)
        } else if key == "kernel.hostname" || key == "kernel.domainname" {
            ns.has(LinuxNamespaceType::Uts)
        } else {
            false
        };
        if !ok {
            return Err(config(format!("linux.sysctl.{key}: not in a namespace of the container (only net.*, IPC and UTS keys with their namespace)")));
        }
    }
    Ok(())
}

pub(crate) fn rlimits(list: &[oci_spec::runtime::PosixRlimit]) -> Result<Vec<Rlimit>> {
    use oci_spec::runtime::PosixRlimitType as T;
    list.iter()
        .map(|r| {
            let (resource, name) = match r.typ() {
                T::RlimitCpu => (libc::RLIMIT_CPU, "RLIMIT_CPU"),
                T::RlimitFsize => (libc::RLIMIT_FSIZE, "RLIMIT_FSIZE"),
                T::RlimitData => (libc::RLIMIT_DATA, "RLIMIT_DATA"),
                T::RlimitStack => (libc::RLIMIT_STACK, "RLIMIT_STACK"),
                T::RlimitCore => (libc::RLIMIT_CORE, "RLIMIT_CORE"),
                T::RlimitRss => (libc::RLIMIT_RSS, "RLIMIT_RSS"),
                T::RlimitNproc => (libc::RLIMIT_NPROC, "RLIMIT_NPROC"),
                T::RlimitNofile => (libc::RLIMIT_NOFILE, "RLIMIT_NOFILE"),
                T::RlimitMemlock => (libc::RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"),
                T::RlimitAs => (libc::RLIMIT_AS, "RLIMIT_AS"),
                T::RlimitLocks => (libc::RLIMIT_LOCKS, "RLIMIT_LOCKS"),
                T::RlimitSigpending => (libc::RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"),
                T::RlimitMsgqueue => (libc::RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"),
                T::RlimitNice => (libc::RLIMIT_NICE, "RLIMIT_NICE"),
                T::RlimitRtprio => (libc::RLIMIT_RTPRIO, "RLIMIT_RTPRIO"),
                T::RlimitRttime => (libc::RLIMIT_RTTIME, "RLIMIT_RTTIME"),
            };
            if r.soft() > r.hard() {
                return Err(config(format!(
                    "process.rlimits ({name}): soft limit {} is above hard limit {}",
                    r.soft(),
                    r.hard()
                )));
            }
            Ok(Rlimit {
                resource: resource as libc::c_int,
                name,
                soft: r.soft(),
                hard: r.hard(),
            })
        })
        .collect()
}

fn personality(linux: &oci_spec::runtime::Linux) -> Result<Option<libc::c_ulong>> {
    use oci_spec::runtime::LinuxPersonalityDomain as D;
    let Some(p) = linux.personality() else {
        return Ok(None);
    };
    if p.flags().as_ref().is_some_and(|f| !f.is_empty()) {
        return Err(config("linux.personality.flags: no flags are supported"));
    }
    Ok(Some(match p.domain() {
        D::PerLinux => 0x0000,
        D::PerLinux32 => 0x0008,
    }))
}

fn time_offsets(linux: &oci_spec::runtime::Linux) -> Result<String> {
    let mut out = String::new();
    for (clock, off) in linux.time_offsets().iter().flatten() {
        if clock != "monotonic" && clock != "boottime" {
            return Err(config(format!(
                "linux.timeOffsets.{clock}: unknown clock (monotonic or boottime)"
            )));
        }
        out.push_str(&format!(
            "{clock} {} {}\n",
            off.secs().unwrap_or(0),
            off.nanosecs().unwrap_or(0)
        ));
    }
    Ok(out)
}

fn rootfs_config(
    spec: &Spec,
    rootfs: &Path,
    bundle: &Path,
    opts: &CreateOptions,
    in_userns: bool,
    new_cgroupns: bool,
) -> Result<RootfsConfig> {
    use nix::mount::MsFlags;
    let linux = spec.linux().clone().unwrap_or_default();
    let mounts = spec.mounts().clone().unwrap_or_default();
    let plans: Vec<_> = mounts
        .iter()
        .enumerate()
        .map(|(i, m)| mount::plan(i, m, bundle))
        .collect::<std::result::Result<_, _>>()?;
    let setup_dev = !plans
        .iter()
        .any(|m| m.bind && m.destination == Path::new("/dev"));
    let mut devices = device::defaults();
    let extra = device::from_spec(linux.devices().as_deref().unwrap_or_default());
    devices.retain(|d| !extra.iter().any(|e| e.path == d.path));
    devices.extend(extra);
    let prop = match linux.rootfs_propagation().as_deref() {
        None | Some("") => None,
        Some(p) => mount::propagation_option(p),
    };
    Ok(RootfsConfig {
        rootfs: rootfs.to_path_buf(),
        readonly: spec
            .root()
            .as_ref()
            .and_then(|r| r.readonly())
            .unwrap_or(false),
        // `/` of the new mount namespace: the requested propagation (recursively) so that
        // shared/slave relations to the host are set up before the rootfs is bound; an
        // unbindable `/` could not be bound, so that one is applied after pivot only.
        root_propagation: prop
            .filter(|p| !p.contains(MsFlags::MS_UNBINDABLE))
            .map(|p| p | MsFlags::MS_REC)
            .unwrap_or(MsFlags::MS_SLAVE | MsFlags::MS_REC),
        rootfs_propagation: prop,
        mounts: plans,
        devices,
        setup_dev,
        masked_paths: linux.masked_paths().clone().unwrap_or_default(),
        readonly_paths: linux.readonly_paths().clone().unwrap_or_default(),
        sysctl: linux
            .sysctl()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        no_pivot: opts.no_pivot,
        in_userns,
        new_cgroupns,
    })
}

/// Status of a container from its state record: derived, never stored.
pub fn status(dir_path: &Path, st: &State) -> Status {
    if !state::init_alive(st) {
        return Status::Stopped;
    }
    // Frozen first, as runc does: a created container can be paused too.
    let frozen = st
        .cgroup
        .clone()
        .and_then(|v| serde_json::from_value::<Cgroup>(v).ok())
        .and_then(|c| c.is_frozen().ok())
        .unwrap_or(false);
    if frozen {
        Status::Paused
    } else if dir_path.join(state::EXEC_FIFO).exists() {
        Status::Created
    } else {
        Status::Running
    }
}

/// `brig state`: read without taking the lock (writers replace state.json atomically), so a
/// hook that asks for the state during create does not deadlock.
pub fn state(root: &Path, id: &str) -> Result<(State, Status)> {
    state::check_id(id)?;
    let path = root.join(id);
    let bytes = match std::fs::read(path.join(state::STATE_FILE)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StateError::NotExist(id.to_string()).into())
        }
        Err(source) => {
            return Err(StateError::Io {
                what: "read",
                path: path.join(state::STATE_FILE),
                source,
            }
            .into())
        }
    };
    let st: State = serde_json::from_slice(&bytes).map_err(|source| StateError::Corrupt {
        path: path.join(state::STATE_FILE),
        source,
    })?;
    let status = status(&path, &st);
    Ok((st, status))
}

pub(crate) fn cgroup_of(st: &State) -> Option<Cgroup> {
    st.cgroup
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
}

pub(crate) fn load_spec(dir: &StateDir) -> Option<Spec> {
    let bytes = std::fs::read(dir.path.join(state::CONFIG_COPY)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `brig start`: release the init from its FIFO, then run poststart hooks.
pub fn start(root: &Path, id: &str, log: &dyn Fn(tracing::Level, &str)) -> Result<()> {
    let dir = StateDir::open(root, id)?;
    let st = dir.load()?;
    let s = status(&dir.path, &st);
    if s != Status::Created {
        return Err(ContainerError::WrongState {
            action: "start",
            status: s,
        });
    }
    let fifo = dir.fifo_path();
    let fd = nix::fcntl::open(
        &fifo,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK,
        nix::sys::stat::Mode::empty(),
    )
    .ctx("open", fifo.display())?;
    // Blocking reads from here on: the writer (init) opens as soon as a reader exists.
    nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
    )
    .ctx("fcntl", fifo.display())?;
    let mut buf = [0u8; 1];
    let mut nap = std::time::Duration::from_micros(50);
    loop {
        match nix::unistd::read(&fd, &mut buf) {
            Ok(1) => {
                // The init keeps its end open until execve (close-on-exec): EOF means the
                // program runs (or the init died), and poststart may follow.
                loop {
                    match nix::unistd::read(&fd, &mut buf) {
                        Err(nix::Error::EINTR) => continue,
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                break;
            }
            Ok(_) => {
                // No writer yet (EOF): the init is on its way into open(), or dead.
                if !state::init_alive(&st) {
                    let _ = std::fs::remove_file(&fifo);
                    return Err(ContainerError::Init(
                        "container init exited before start".into(),
                    ));
                }
                std::thread::sleep(nap);
                nap = (nap * 2).min(std::time::Duration::from_millis(10));
            }
            Err(nix::Error::EINTR) => {}
            Err(e) => return Err(SysError::new("read", fifo.display().to_string(), e).into()),
        }
    }
    std::fs::remove_file(&fifo).map_err(|source| StateError::Io {
        what: "remove",
        path: fifo.clone(),
        source,
    })?;
    if let Some(spec) = load_spec(&dir) {
        if let Some(h) = spec.hooks().as_ref().and_then(|h| h.poststart().clone()) {
            let json = serde_json::to_vec(&st.oci(Status::Running)).unwrap_or_default();
            for w in crate::hooks::run_all_warn("poststart", &h, &json) {
                log(tracing::Level::WARN, &w);
            }
        }
    }
    Ok(())
}

/// `brig kill`: signal the init, or with `all` every process of the container's cgroup.
pub fn kill(root: &Path, id: &str, sig: i32, all: bool) -> Result<()> {
    let dir = StateDir::open(root, id)?;
    let st = dir.load()?;
    let s = status(&dir.path, &st);
    if s == Status::Stopped {
        if all {
            if let Some(cg) = cgroup_of(&st) {
                cg.signal_all(sig)?;
            }
        }
        return Err(ContainerError::NotRunning);
    }
    if all {
        if let Some(cg) = cgroup_of(&st) {
            cg.signal_all(sig)?;
            return Ok(());
        }
    }
    // SAFETY: kill(2) with plain integers; the pid is checked live and ours above.
    if unsafe { libc::kill(st.pid, sig) } < 0 {
        let e = nix::Error::last();
        if e == nix::Error::ESRCH {
            return Err(ContainerError::NotRunning);
        }
        return Err(SysError::new("kill", format!("pid {}", st.pid), e).into());
    }
    // A frozen task dies of SIGKILL only once thawed (cgroup v1): thaw a paused container, as
    // runc does, so that `podman kill` of a paused container ends it. Best effort, like runc:
    // the signal is sent whatever the thaw says.
    if s == Status::Paused && sig == libc::SIGKILL {
        if let Some(cg) = cgroup_of(&st) {
            let _ = cg.thaw();
        }
    }
    Ok(())
}

/// `brig delete`: remove a stopped (or, with `force`, any) container and everything it made.
pub fn delete(
    root: &Path,
    id: &str,
    force: bool,
    log: &dyn Fn(tracing::Level, &str),
) -> Result<()> {
    let dir = match StateDir::open(root, id) {
        Err(StateError::NotExist(_)) if force => return Ok(()),
        r => r?,
    };
    let st = match dir.load() {
        Ok(st) => st,
        // A create that died before its first save: nothing but the directory to remove.
        Err(StateError::NotExist(_)) => {
            dir.remove()?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let s = status(&dir.path, &st);
    match s {
        Status::Stopped | Status::Created => {}
        _ if force => {}
        _ => {
            return Err(ContainerError::WrongState {
                action: "delete",
                status: s,
            })
        }
    }
    let cg = cgroup_of(&st);
    if s != Status::Stopped {
        if s == Status::Paused {
            // A frozen process cannot die: SIGKILL is queued until it is thawed.
            if let Some(cg) = &cg {
                let _ = cg.signal_all(libc::SIGKILL);
            }
        }
        // SAFETY: kill(2) with plain integers on the pid checked live above.
        unsafe { libc::kill(st.pid, libc::SIGKILL) };
        wait_gone(&st);
    }
    if let Some(cg) = &cg {
        cg.destroy()?;
    }
    if let Some(spec) = load_spec(&dir) {
        if let Some(h) = spec.hooks().as_ref().and_then(|h| h.poststop().clone()) {
            let json = serde_json::to_vec(&st.oci(Status::Stopped)).unwrap_or_default();
            for w in crate::hooks::run_all_warn("poststop", &h, &json) {
                log(tracing::Level::WARN, &w);
            }
        }
    }
    dir.remove()?;
    Ok(())
}

/// Wait until the init is gone (exited or a zombie that its parent will reap).
fn wait_gone(st: &State) {
    // Reap it if it is our child (brig run); otherwise poll.
    let _ = waitpid(Pid::from_raw(st.pid), Some(WaitPidFlag::WNOHANG));
    let mut nap = std::time::Duration::from_micros(100);
    for _ in 0..2000 {
        if !state::init_alive(st) {
            return;
        }
        if let Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) =
            waitpid(Pid::from_raw(st.pid), Some(WaitPidFlag::WNOHANG))
        {
            return;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(std::time::Duration::from_millis(10));
    }
}

/// One row of `brig list`.
pub struct Listed {
    pub state: State,
    pub status: Status,
}

pub fn list(root: &Path) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    for id in state::list_ids(root)? {
        if let Ok((st, status)) = state(root, &id) {
            out.push(Listed { state: st, status });
        }
    }
    Ok(out)
}

/// `brig run` in the foreground: forward signals to the init until it exits; returns the exit
/// code brig should end with (128+N for death by signal N). With `master`, also copy the pty.
pub fn wait_foreground(pid: i32, master: Option<OwnedFd>) -> i32 {
    use nix::sys::signal::{SigSet, SigmaskHow};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
        Signal::SIGCONT,
        Signal::SIGTSTP,
    ] {
        set.add(s);
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
    let sfd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC);
    let reap = || match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::Exited(_, code)) => Some(code),
        Ok(WaitStatus::Signaled(_, sig, _)) => Some(128 + sig as i32),
        Err(nix::Error::ECHILD) => Some(255),
        _ => None,
    };
    if let Some(code) = reap() {
        return code;
    }
    let Ok(sfd) = sfd else {
        return match waitpid(Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, c)) => c,
            Ok(WaitStatus::Signaled(_, s, _)) => 128 + s as i32,
            _ => 255,
        };
    };
    let mut master = master;
    let mut stdin_open = true;
    let mut buf = [0u8; 8192];
    loop {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        let stdin = std::io::stdin();
        if let Some(m) = &master {
            fds.push(PollFd::new(m.as_fd(), PollFlags::POLLIN));
            if stdin_open {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
        }
        if let Err(e) = poll(&mut fds, PollTimeout::NONE) {
            if e != nix::Error::EINTR {
                break;
            }
            continue;
        }
        let ev: Vec<_> = fds
            .iter()
            .map(|f| f.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(fds);
        if ev[0].contains(PollFlags::POLLIN) {
            if let Ok(Some(info)) = sfd.read_signal() {
                let sig = info.ssi_signo as i32;
                if sig == libc::SIGCHLD {
                    if let Some(code) = reap() {
                        if let Some(m) = master.take() {
                            drain(&m);
                        }
                        return code;
                    }
                } else if sig == libc::SIGWINCH {
                    if let Some(m) = &master {
                        // SAFETY: TIOCGWINSZ/TIOCSWINSZ through valid pointers on open fds.
                        unsafe {
                            let mut ws: libc::winsize = std::mem::zeroed();
                            if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
                                libc::ioctl(m.as_raw_fd(), libc::TIOCSWINSZ, &ws);
                            }
                        }
                    }
                } else {
                    // SAFETY: kill(2) with plain integers, to our own child.
                    unsafe { libc::kill(pid, sig) };
                }
            }
        }
        if let Some(m) = &master {
            if ev
                .get(1)
                .is_some_and(|e| e.intersects(PollFlags::POLLIN | PollFlags::POLLHUP))
            {
                match nix::unistd::read(m, &mut buf) {
                    Ok(n) if n > 0 => {
                        let _ = crate::tty::write_all(std::io::stdout().as_fd(), &buf[..n]);
                    }
                    _ => master = None,
                }
            }
            if ev
                .get(2)
                .is_some_and(|e| e.intersects(PollFlags::POLLIN | PollFlags::POLLHUP))
            {
                match nix::unistd::read(std::io::stdin().as_fd(), &mut buf) {
                    Ok(n) if n > 0 => {
                        if let Some(m) = &master {
                            let _ = crate::tty::write_all(m.as_fd(), &buf[..n]);
                        }
                    }
                    _ => stdin_open = false,
                }
            }
        }
    }
    255
}

fn drain(m: &OwnedFd) {
    let mut buf = [0u8; 8192];
    let _ = nix::fcntl::fcntl(
        m,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    );
    while let Ok(n) = nix::unistd::read(m, &mut buf) {
        if n == 0 {
            break;
        }
        let _ = crate::tty::write_all(std::io::stdout().as_fd(), &buf[..n]);
    }
}

// ---------------------------------------------------------------------------------------------
// The cgroup-driven commands: pause, resume, ps, events, update, with runc's semantics and JSON.

/// State, status and cgroup of a container, for the commands that act through its cgroup. The
/// state dir's lock is released on return, so a long `events` never blocks a `delete`.
fn open_with_cgroup(root: &Path, id: &str) -> Result<(State, Status, Cgroup)> {
    let dir = StateDir::open(root, id)?;
    let st = dir.load()?;
    let s = status(&dir.path, &st);
    let cg = cgroup_of(&st)
        .ok_or_else(|| config(format!("container `{id}` has no cgroup in its state")))?;
    Ok((st, s, cg))
}

/// `brig pause`: freeze every process of a created or running container (runc pauses both; a
/// paused created container reads `paused`, and `created` again once resumed).
pub fn pause(root: &Path, id: &str) -> Result<()> {
    let (_, s, cg) = open_with_cgroup(root, id)?;
    match s {
        Status::Running | Status::Created => Ok(cg.freeze()?),
        _ => Err(ContainerError::NotRunning),
    }
}

/// `brig resume`: thaw a paused container.
pub fn resume(root: &Path, id: &str) -> Result<()> {
    let (_, s, cg) = open_with_cgroup(root, id)?;
    if s != Status::Paused {
        return Err(ContainerError::NotPaused);
    }
    Ok(cg.thaw()?)
}

/// `brig update`: apply `resources` to the cgroup of a container that is not stopped. Device rules
/// are left alone, as runc's update does (it sets `SkipDevices`).
pub fn update(root: &Path, id: &str, resources: &oci_spec::runtime::LinuxResources) -> Result<()> {
    let (_, s, cg) = open_with_cgroup(root, id)?;
    if s == Status::Stopped {
        return Err(ContainerError::NotRunning);
    }
    let mut res = resources.clone();
    res.set_devices(None);
    Ok(cg.update(&res)?)
}

/// `brig ps`: host pids of every process in the container's cgroup (none once the cgroup is gone).
pub fn ps_pids(root: &Path, id: &str) -> Result<Vec<i32>> {
    let (_, _, cg) = open_with_cgroup(root, id)?;
    if cg.dirs().iter().all(|d| !d.exists()) {
        return Ok(Vec::new());
    }
    Ok(cg.pids()?)
}

/// One row of `brig ps --format table`, in the columns of `ps -ef`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsRow {
    /// Effective user name (the uid when the host's /etc/passwd has no name for it).
    pub user: String,
    pub pid: i32,
    pub ppid: i32,
    /// CPU use over the process's lifetime, in percent (capped at 99 like procps).
    pub cpu: u64,
    /// Start: `HH:MM` today, `MonDD` this year, else the year (local time).
    pub stime: String,
    /// `pts/N`, `ttyN`, `ttySN`, or `?` for none.
    pub tty: String,
    /// CPU time, `[D-]HH:MM:SS`.
    pub time: String,
    /// The command line, or `[comm]` when it is empty (kernel threads, zombies).
    pub cmd: String,
}

/// `ps -ef` rows for `pids`, read from /proc and sorted by pid. Processes that exit meanwhile are
/// left out, as `ps` would.
pub fn ps_rows(pids: &[i32]) -> Vec<PsRow> {
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|&t| t > 0)
        .unwrap_or(100) as u64;
    let btime = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime ").map(|v| v.trim().parse::<u64>()))
        })
        .and_then(|r| r.ok())
        .unwrap_or(0);
    let uptime = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0);
    let users = passwd_names();
    let mut rows: Vec<PsRow> = pids
        .iter()
        .filter_map(|&pid| ps_row(pid, hz, btime, uptime, &users))
        .collect();
    rows.sort_by_key(|r| r.pid);
    rows
}

fn ps_row(
    pid: i32,
    hz: u64,
    btime: u64,
    uptime: f64,
    users: &HashMap<u32, String>,
) -> Option<PsRow> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = &stat[open + 1..close];
    // Fields from the 3rd (state) on: ppid is [1], tty_nr [4], utime [11], stime [12], starttime [19].
    let f: Vec<&str> = stat.get(close + 2..)?.split(' ').collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let ppid = f.get(1)?.parse().ok()?;
    let ticks = num(11) + num(12);
    let start_ticks = num(19);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u32>().ok());
    let user = match euid {
        Some(u) => users
            .get(&u)
            .filter(|n| n.len() <= 8)
            .cloned()
            .unwrap_or_else(|| u.to_string()),
        None => "?".to_string(),
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let cmd = if args.is_empty() {
        format!("[{comm}]")
    } else {
        args.join(" ")
    };
    let age = uptime - start_ticks as f64 / hz as f64;
    let cpu = if age > 0.0 {
        ((ticks as f64 / hz as f64) * 100.0 / age) as u64
    } else {
        0
    };
    let secs = ticks / hz;
    let time = if secs >= 86400 {
        format!(
            "{}-{:02}:{:02}:{:02}",
            secs / 86400,
            secs / 3600 % 24,
            secs / 60 % 60,
            secs % 60
        )
    } else {
        format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
    };
    Some(PsRow {
        user,
        pid,
        ppid,
        cpu: cpu.min(99),
        stime: start_time_text(btime + start_ticks / hz),
        tty: tty_name(num(4)),
        time,
        cmd,
    })
}

/// uid to user name from the host's /etc/passwd (as the host's `ps` shows them).
fn passwd_names() -> HashMap<u32, String> {
    std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

/// The terminal of a `tty_nr` from /proc/PID/stat, named as `ps` does for the common devices.
fn tty_name(nr: u64) -> String {
    let major = (nr >> 8) & 0xfff;
    let minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
    match major {
        0 => "?".to_string(),
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        _ => format!("{major},{minor}"),
    }
}

/// `ps`'s STIME: `HH:MM` if started in the last 24 hours, `MonDD` this year, else the year.
fn start_time_text(start: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (Some(t), Some(n)) = (local_time(start), local_time(now)) else {
        return "?".to_string();
    };
    if now.saturating_sub(start) < 86400 {
        format!("{:02}:{:02}", t.tm_hour, t.tm_min)
    } else if t.tm_year == n.tm_year {
        let month = MONTHS.get(t.tm_mon as usize).copied().unwrap_or("???");
        format!("{month}{:02}", t.tm_mday)
    } else {
        format!("{}", t.tm_year + 1900)
    }
}

fn local_time(secs: u64) -> Option<libc::tm> {
    let t = libc::time_t::try_from(secs).ok()?;
    // SAFETY: an all-zero `tm` is a valid value (integers and a null tm_zone pointer).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r reads `t` and writes only into `tm`, both valid for the call; it is the
    // reentrant variant, so no static buffer is shared.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    (!r.is_null()).then_some(tm)
}

/// `brig ps ID PS-ARGS...` as runc does it: run the host's `ps PS-ARGS` and keep its header and the
/// rows whose PID column is one of `pids`.
pub fn ps_exec(args: &[String], pids: &[i32]) -> Result<String> {
    let out = std::process::Command::new("ps")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| config(format!("run `ps`: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(config(format!(
            "`ps {}` failed ({}): {}",
            args.join(" "),
            out.status,
            err.trim()
        )));
    }
    ps_filter(&text, pids)
}

/// The header of `ps` output and the rows whose PID column is in `pids`.
fn ps_filter(output: &str, pids: &[i32]) -> Result<String> {
    let mut lines = output.lines();
    let header = lines.next().unwrap_or("");
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| config("couldn't find PID field in ps output"))?;
    let mut out = format!("{header}\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let pid = line
            .split_whitespace()
            .nth(col)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// One line of `brig events`, as runc prints it: `{"type":"stats"|"oom","id":ID[,"data":{...}]}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<EventStats>,
}

/// The `data` of a stats event: runc's `types.Stats`, keys in runc's order. brig has no Intel RDT
/// and no network stats, so those two keys are always `{}` and `null`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventStats {
    #[serde(flatten)]
    pub stats: crate::cgroups::Stats,
    pub intel_rdt: serde_json::Value,
    pub network_interfaces: Option<Vec<serde_json::Value>>,
}

fn stats_event(id: &str, cg: &Cgroup) -> Result<Event> {
    Ok(Event {
        kind: "stats",
        id: id.to_string(),
        data: Some(EventStats {
            stats: cg.stats()?,
            intel_rdt: serde_json::json!({}),
            network_interfaces: None,
        }),
    })
}

/// `brig events`: with `stats_only`, one stats event. Otherwise a stats event every `interval`
/// (the first after one interval, as runc's ticker) and an oom event whenever the memory cgroup
/// reports one, until the container's init exits. Unlike runc, which keeps printing stats until
/// the cgroup is removed, this returns when the container stops.
pub fn events(
    root: &Path,
    id: &str,
    interval: std::time::Duration,
    stats_only: bool,
    emit: &mut dyn FnMut(&Event),
    log: &dyn Fn(tracing::Level, &str),
) -> Result<()> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::time::{Duration, Instant};
    let (st, s, cg) = open_with_cgroup(root, id)?;
    if s == Status::Stopped {
        return Err(ContainerError::NotRunning);
    }
    if stats_only {
        emit(&stats_event(id, &cg)?);
        return Ok(());
    }
    let oom_fd = match cg.oom_notifier() {
        Ok(fd) => Some(fd),
        Err(e) => {
            log(tracing::Level::WARN, &format!("no oom events: {e}"));
            None
        }
    };
    let v1_memory = cg.v1_path("memory").is_some();
    let mut ooms = cg.oom_count().unwrap_or(0);
    // Whether an OOM happened since the last call: v1's eventfd counts events (it also fires when the
    // cgroup is removed, hence the count check too); v2's inotify wakes on any memory.events change.
    let mut oom_fired = |drain: bool| -> bool {
        let mut woke = false;
        if let Some(fd) = oom_fd.as_ref().filter(|_| drain) {
            let mut buf = [0u8; 4096];
            while let Ok(n) = nix::unistd::read(fd, &mut buf) {
                if n == 0 {
                    break;
                }
                woke = true;
            }
        }
        let now = cg.oom_count().unwrap_or(ooms);
        let more = now > ooms;
        ooms = ooms.max(now);
        more || (woke && v1_memory && cg.v1_path("memory").is_some_and(Path::exists))
    };
    let init_fd = pidfd_of(&st);
    let mut next = Instant::now() + interval;
    loop {
        let left = next.saturating_duration_since(Instant::now());
        // Without a pidfd (old kernel), look at the init at least once a second.
        let wait = if init_fd.is_some() {
            left
        } else {
            left.min(Duration::from_secs(1))
        };
        let timeout = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
        let mut fds: Vec<PollFd> = oom_fd
            .iter()
            .chain(init_fd.iter())
            .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(SysError::new("poll", format!("events of {id}"), e).into()),
        }
        let oom_ready = oom_fd.is_some()
            && fds
                .first()
                .and_then(|f| f.revents())
                .is_some_and(|r| r.contains(PollFlags::POLLIN));
        drop(fds);
        if oom_ready && oom_fired(true) {
            emit(&Event {
                kind: "oom",
                id: id.to_string(),
                data: None,
            });
        }
        if !state::init_alive(&st) {
            // The OOM that killed the init may be reported together with its exit.
            if oom_fired(true) {
                emit(&Event {
                    kind: "oom",
                    id: id.to_string(),
                    data: None,
                });
            }
            return Ok(());
        }
        if Instant::now() >= next {
            match stats_event(id, &cg) {
                Ok(e) => emit(&e),
                Err(e) => log(tracing::Level::ERROR, &format!("stats: {e}")),
            }
            next += interval;
            if next < Instant::now() {
                next = Instant::now() + interval;
            }
        }
    }
}

/// A pidfd of the container's init (readable once it exits), or None if the kernel has no
/// pidfd_open or the init is already gone.
fn pidfd_of(st: &State) -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, st.pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just returned by pidfd_open and is owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // The pid may have been reused between the state check and the open: make sure it is our init.
    state::init_alive(st).then_some(fd)
}

#[cfg(test)]
mod cgroup_command_tests {
    use super::*;

    #[test]
    fn ps_filter_keeps_header_and_our_pids() {
        let out = "  PID COMMAND\n    1 init\n   42 sleep\n  420 sh\n";
        assert_eq!(
            ps_filter(out, &[42, 7]).unwrap(),
            "  PID COMMAND\n   42 sleep\n"
        );
        let e = ps_filter("USER COMMAND\nroot x\n", &[1]).unwrap_err();
        assert_eq!(e.to_string(), "couldn't find PID field in ps output");
    }

    #[test]
    fn tty_names() {
        assert_eq!(tty_name(0), "?");
        assert_eq!(tty_name((136 << 8) | 3), "pts/3");
        assert_eq!(tty_name((4 << 8) | 1), "tty1");
        assert_eq!(tty_name((4 << 8) | 65), "ttyS1");
    }

    #[test]
    fn own_process_row() {
        let me = std::process::id() as i32;
        let rows = ps_rows(&[me, i32::MAX]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].pid, me);
        assert_eq!(rows[0].ppid, nix::unistd::getppid().as_raw());
        assert!(rows[0].stime.contains(':'), "{}", rows[0].stime);
        assert_eq!(rows[0].time.len(), 8);
    }
}
