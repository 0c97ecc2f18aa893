//! `brig exec`: a new process in a running container. It joins every namespace of the
//! container's init (user first), its cgroup (born there with clone3 where the kernel allows),
//! gets the process attributes of `--process` (or the container's config plus flags) and the
//! container's seccomp profile, then execs. Touches only the new process and the caller's pty
//! and pid file.

use nix::sched::CloneFlags;
use oci_spec::runtime::Process;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::container::{above, cgroup_of, cstrings, load_spec, rlimits, status, ContainerError};
use crate::process::clone::{clone_process, Forked};
use crate::process::init::{
    apply_rlimits, close_other_fds, enter_cwd, exec_program, finalize_process, find_program,
    prepare_fds_for_exec, reset_signals, with_home, InitError,
};
use crate::process::sync::{self, FromInit};
use crate::state::{StateDir, Status};
use crate::sys::Ctx;

type Result<T> = std::result::Result<T, ContainerError>;

/// What `brig exec` was asked for.
#[derive(Debug, Default)]
pub struct ExecOptions {
    pub root: PathBuf,
    pub id: String,
    /// `--process FILE`: a runtime-spec Process; otherwise built from the container's config.
    pub process_file: Option<PathBuf>,
    pub args: Vec<String>,
    pub tty: bool,
    pub console_socket: Option<PathBuf>,
    pub console_fd: Option<OwnedFd>,
    /// With `console_fd`: brig's end, where the pty master arrives (`exec -t` in the foreground).
    pub console_receiver: Option<OwnedFd>,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub additional_gids: Vec<u32>,
    pub caps: Vec<String>,
    pub no_new_privs: bool,
    pub preserve_fds: i32,
    pub ignore_paused: bool,
    pub apparmor: Option<String>,
    pub process_label: Option<String>,
    /// `--cgroup [<controller>:]<path>`: run in existing sub-cgroups of the container's.
    pub cgroup: Vec<String>,
}

const ORDER: [(&str, CloneFlags); 8] = [
    ("user", CloneFlags::CLONE_NEWUSER),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("time", CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// The process to run: `--process` as given, or the container's process with the flags applied.
fn process_for(opts: &ExecOptions, dir: &StateDir) -> Result<Process> {
    if let Some(f) = &opts.process_file {
        let bytes = std::fs::read(f)
            .map_err(|e| ContainerError::Config(format!("--process `{}`: {e}", f.display())))?;
        return serde_json::from_slice(&bytes)
            .map_err(|e| ContainerError::Config(format!("--process `{}`: {e}", f.display())));
    }
    let spec = load_spec(dir)
        .ok_or_else(|| ContainerError::Config("the container's config copy is missing".into()))?;
    let mut p = spec.process().clone().unwrap_or_default();
    if opts.args.is_empty() {
        return Err(ContainerError::Config(
            "exec needs a command (or --process FILE)".into(),
        ));
    }
    p.set_args(Some(opts.args.clone()));
    p.set_terminal(Some(opts.tty));
    if let Some(cwd) = &opts.cwd {
        p.set_cwd(cwd.clone());
    }
    let mut env = p.env().clone().unwrap_or_default();
    for kv in &opts.env {
        let key = kv.split('=').next().unwrap_or("");
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    p.set_env(Some(env));
    let mut user = p.user().clone();
    if let Some(u) = &opts.user {
        let (uid, gid) = u
            .split_once(':')
            .map(|(a, b)| (a, Some(b)))
            .unwrap_or((u.as_str(), None));
        let bad = || ContainerError::Config(format!("--user `{u}`: expected UID[:GID] (numbers)"));
        user.set_uid(uid.parse().map_err(|_| bad())?);
        user.set_gid(match gid {
            Some(g) => g.parse().map_err(|_| bad())?,
            None => user.gid(),
        });
    }
    if !opts.additional_gids.is_empty() {
        user.set_additional_gids(Some(opts.additional_gids.clone()));
    }
    p.set_user(user);
    if !opts.caps.is_empty() {
        let mut caps = p.capabilities().clone().unwrap_or_default();
        for name in &opts.caps {
            let cap: oci_spec::runtime::Capability =
                serde_json::from_value(serde_json::Value::String(name.clone())).map_err(|_| {
                    ContainerError::Config(format!("--cap `{name}`: unknown capability"))
                })?;
            let mut b = caps.bounding().clone().unwrap_or_default();
            b.insert(cap);
            caps.set_bounding(Some(b));
            let mut e = caps.effective().clone().unwrap_or_default();
            e.insert(cap);
            caps.set_effective(Some(e));
            let mut pm = caps.permitted().clone().unwrap_or_default();
            pm.insert(cap);
            caps.set_permitted(Some(pm));
        }
        p.set_capabilities(Some(caps));
    }
    if opts.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if let Some(a) = &opts.apparmor {
        p.set_apparmor_profile(Some(a.clone()));
    }
    if let Some(l) = &opts.process_label {
        p.set_selinux_label(Some(l.clone()));
    }
    Ok(p)
}

/// Run `brig exec`. Returns the exit code brig should end with (0 when detached).
pub fn exec(mut opts: ExecOptions) -> Result<i32> {
    let dir = StateDir::open(&opts.root, &opts.id)?;
    let st = dir.load()?;
    let s = status(&dir.path, &st);
    match s {
        Status::Running => {}
        Status::Paused if opts.ignore_paused => {}
        Status::Paused => {
            return Err(ContainerError::Config(
                "cannot exec in a paused container (use --ignore-paused to override)".into(),
            ))
        }
        _ => {
            return Err(ContainerError::WrongState {
                action: "exec in",
                status: s,
            })
        }
    }
    let cgroup = match cgroup_of(&st) {
        Some(cg) if !opts.cgroup.is_empty() => Some(cg.sub_cgroup(&opts.cgroup)?),
        None if !opts.cgroup.is_empty() => {
            return Err(ContainerError::Config(
                "--cgroup: the container has no cgroup".into(),
            ))
        }
        cg => cg,
    };
    let process = process_for(&opts, &dir)?;
    let spec = load_spec(&dir);
    drop(dir);
    if process
        .selinux_label()
        .as_deref()
        .is_some_and(|l| !l.is_empty())
        && !Path::new("/sys/fs/selinux/enforce").exists()
    {
        return Err(ContainerError::Config(
            "process.selinuxLabel: SELinux is not enabled on this host".into(),
        ));
    }
    let apparmor = process.apparmor_profile().clone().filter(|p| !p.is_empty());
    if apparmor.is_some()
        && std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
            .map(|s| s.trim() != "Y")
            .unwrap_or(true)
    {
        return Err(ContainerError::Config(
            "process.apparmorProfile: AppArmor is not enabled on this host".into(),
        ));
    }
    let args = cstrings(
        "process.args",
        process.args().as_deref().unwrap_or_default(),
    )?;
    if args.is_empty() {
        return Err(ContainerError::Config(
            "process.args: must name at least the program to run".into(),
        ));
    }
    let env = cstrings("process.env", process.env().as_deref().unwrap_or_default())?;
    let min_fd = 3 + opts.preserve_fds.max(0);
    let terminal = process.terminal().unwrap_or(false);
    let console = match (terminal, &opts.console_socket, opts.console_fd.take()) {
        (true, Some(p), _) => Some(above(crate::tty::connect(p)?, min_fd)?),
        (true, None, Some(fd)) => Some(above(fd, min_fd)?),
        (true, None, None) => {
            return Err(ContainerError::Config(
                "--tty: --console-socket is required".into(),
            ))
        }
        (false, Some(_), _) => {
            return Err(ContainerError::Config(
                "--console-socket given without --tty".into(),
            ))
        }
        (false, None, _) => None,
    };
    let seccomp = match spec
        .as_ref()
        .and_then(|s| s.linux().as_ref())
        .and_then(|l| l.seccomp().clone())
    {
        Some(s) => Some(crate::seccomp::compile(&s)?),
        None => None,
    };
    let caps = process
        .capabilities()
        .as_ref()
        .map(|c| crate::capabilities::CapPlan::from_spec(c).0);
    let limits = rlimits(process.rlimits().as_deref().unwrap_or_default())?;
    let user = process.user().clone();

    // Namespaces of the init that differ from ours, opened now (user first, mount last).
    let mut joins: Vec<(CloneFlags, OwnedFd)> = Vec::new();
    for (name, flag) in ORDER {
        let theirs = format!("/proc/{}/ns/{name}", st.pid);
        let (Ok(a), Ok(b)) = (
            std::fs::metadata(&theirs),
            std::fs::metadata(format!("/proc/self/ns/{name}")),
        ) else {
            continue;
        };
        use std::os::unix::fs::MetadataExt;
        if a.ino() == b.ino() && a.dev() == b.dev() {
            continue;
        }
        let f = std::fs::File::open(&theirs)
            .map_err(|e| ContainerError::Config(format!("open {theirs}: {e}")))?;
        joins.push((flag, above(f.into(), min_fd)?));
    }
    let in_user = joins.iter().any(|(f, _)| *f == CloneFlags::CLONE_NEWUSER);
    let (ours, theirs) = sync::pair()?;
    let theirs = above(theirs, min_fd)?;

    // pid and time namespaces apply to children: enter them "for children" around the clone.
    let mut restore = Vec::new();
    for (flag, fd) in joins
        .iter()
        .filter(|(f, _)| f.bits() & (libc::CLONE_NEWPID | libc::CLONE_NEWTIME) != 0)
    {
        let name = if flag.bits() == libc::CLONE_NEWPID {
            "pid"
        } else {
            "time"
        };
        let own = std::fs::File::open(format!("/proc/self/ns/{name}_for_children"))
            .map_err(|e| ContainerError::Config(format!("open own {name} namespace: {e}")))?;
        nix::sched::setns(fd.as_fd(), *flag).ctx("setns", name)?;
        restore.push((*flag, OwnedFd::from(own)));
    }
    let cgroup_fd = cgroup.as_ref().and_then(|c| c.clone_into_fd());
    let keep: Vec<i32> = [theirs.as_raw_fd()]
        .into_iter()
        .chain(console.as_ref().map(|c| c.as_raw_fd()))
        .chain(joins.iter().map(|(_, f)| f.as_raw_fd()))
        .collect();
    let forked = clone_process(0, cgroup_fd.as_ref().map(|f| f.as_fd()));
    if matches!(forked, Ok(Forked::Parent { .. })) {
        for (flag, fd) in &restore {
            let _ = nix::sched::setns(fd.as_fd(), *flag);
        }
    }
    match forked? {
        Forked::Child => {
            close_other_fds(&keep, opts.preserve_fds);
            std::mem::forget(ours);
            let child = Child {
                joins,
                in_user,
                sock: theirs,
                console,
                console_size: process
                    .console_size()
                    .map(|b| (b.height() as u16, b.width() as u16)),
                args,
                env,
                cwd: process.cwd().clone(),
                uid: user.uid(),
                gid: user.gid(),
                groups: user.additional_gids().clone().unwrap_or_default(),
                umask: user.umask().unwrap_or(0o022),
                caps,
                rlimits: limits,
                nnp: process.no_new_privileges().unwrap_or(false),
                apparmor,
                seccomp,
                preserve_fds: opts.preserve_fds,
            };
            child.run()
        }
        Forked::Parent { pid, in_cgroup } => {
            drop(theirs);
            drop(console);
            let reap = || {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
                let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
            };
            if let Some(cg) = &cgroup {
                if let Err(e) = cg.add_task(pid, in_cgroup) {
                    reap();
                    return Err(e.into());
                }
            }
            if let Err(e) = crate::process::sync::ToInit::Go(pid).send(ours.as_fd()) {
                reap();
                return Err(e.into());
            }
            // The child's end is close-on-exec: EOF means the program is running.
            match FromInit::recv(ours.as_fd()) {
                Ok(FromInit::Failed { errno, what }) => {
                    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
                    // 127/126 for a program that is missing / not executable (the init's
                    // `exec: ` errors), as crun does and as podman derives them from runc's
                    // message (runc itself exits 255 for any exec that failed to start).
                    let code = match errno {
                        libc::ENOENT if what.starts_with("exec: ") => 127,
                        libc::EACCES if what.starts_with("exec: ") => 126,
                        _ => 1,
                    };
                    return Err(ContainerError::Exec { code, what });
                }
                Ok(_) | Err(sync::SyncError::Closed) => {}
                Err(e) => {
                    reap();
                    return Err(e.into());
                }
            }
            if let Some(p) = &opts.pid_file {
                let tmp = p.with_file_name(format!(
                    ".{}.tmp",
                    p.file_name()
                        .map(|f| f.to_string_lossy())
                        .unwrap_or_default()
                ));
                std::fs::write(&tmp, pid.to_string())
                    .and_then(|_| std::fs::rename(&tmp, p))
                    .map_err(|source| ContainerError::PidFile {
                        path: p.clone(),
                        source,
                    })?;
            }
            if opts.detach {
                return Ok(0);
            }
            let master = match opts.console_receiver.take() {
                Some(sock) => crate::tty::recv_fd(sock.as_fd()).ok(),
                None => None,
            };
            Ok(crate::container::wait_foreground(pid, master))
        }
    }
}

/// Everything the exec'd process needs, moved into the cloned child.
struct Child {
    joins: Vec<(CloneFlags, OwnedFd)>,
    in_user: bool,
    sock: OwnedFd,
    console: Option<OwnedFd>,
    console_size: Option<(u16, u16)>,
    args: Vec<CString>,
    env: Vec<CString>,
    cwd: PathBuf,
    uid: u32,
    gid: u32,
    groups: Vec<u32>,
    umask: u32,
    caps: Option<crate::capabilities::CapPlan>,
    rlimits: Vec<crate::process::Rlimit>,
    nnp: bool,
    apparmor: Option<String>,
    seccomp: Option<crate::seccomp::CompiledFilter>,
    preserve_fds: i32,
}

impl Child {
    fn run(self) -> ! {
        let sock = self.sock.try_clone().ok();
        let err = match self.setup() {
            Ok(never) => match never {},
            Err(e) => e,
        };
        if let Some(s) = sock {
            let _ = FromInit::Failed {
                errno: err.errno(),
                what: err.to_string(),
            }
            .send(s.as_fd());
        }
        // SAFETY: leave at once, running nothing of brig's on this copied state.
        unsafe { libc::_exit(1) }
    }

    fn setup(mut self) -> std::result::Result<std::convert::Infallible, InitError> {
        crate::process::sync::ToInit::recv(self.sock.as_fd())?;
        for (flag, fd) in &self.joins {
            if flag.bits() & (libc::CLONE_NEWPID | libc::CLONE_NEWTIME) != 0 {
                continue;
            }
            nix::sched::setns(fd.as_fd(), *flag).ctx("setns", format!("{flag:?}"))?;
        }
        self.joins.clear();
        if self.in_user {
            nix::unistd::setresgid(0.into(), 0.into(), 0.into()).ctx("setresgid", "0")?;
            nix::unistd::setresuid(0.into(), 0.into(), 0.into()).ctx("setresuid", "0")?;
        }
        nix::unistd::setsid().ctx("setsid", "")?;
        apply_rlimits(&self.rlimits)?;
        if let Some(console) = self.console.take() {
            crate::tty::setup_console(console.as_fd(), self.uid, self.gid, self.console_size)?;
        }
        enter_cwd(&self.cwd)?;
        let env = with_home(std::mem::take(&mut self.env), self.uid);
        let program = find_program(&self.args[0], &env)?;
        let notify = finalize_process(
            &self.seccomp,
            self.nnp,
            self.caps.as_ref(),
            self.uid,
            self.gid,
            &self.groups,
            None,
            self.apparmor.as_deref(),
        )?;
        drop(notify);
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(self.umask));
        prepare_fds_for_exec(self.preserve_fds);
        reset_signals();
        Err(exec_program(&program, &self.args, &env))
    }
}
