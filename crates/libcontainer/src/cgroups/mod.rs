//! cgroups: the container's cgroup on v1, v2 and hybrid hosts — create, limits, freeze, pids, stats, destroy.
//!
//! [`Cgroup`] holds the container's directory in every hierarchy (serialised into state.json). Each
//! controller is used where the host has it: a v1 hierarchy when one is mounted for it, else the cgroup2
//! hierarchy when its `cgroup.controllers` lists it (on a hybrid host, e.g. hugetlb only). Resources that a
//! host cannot honour fail with the `linux.resources...` field named. Unit tests inject the host (mountinfo,
//! /proc/self/cgroup, filesystem root) through [`Host`] and run against a fake cgroupfs in a temp dir.

mod bpf;
mod devices;
mod files;
mod oom;
mod path;
pub(crate) use path::unescape as unescape_mountinfo;
mod stats;
mod v1;
mod v2;

#[cfg(test)]
mod tests_fake;
#[cfg(test)]
mod tests_real;

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use oci_spec::runtime::LinuxResources;
use serde::{Deserialize, Serialize};

pub use devices::default_allowed_devices;
pub use stats::{
    BlkioEntry, BlkioStats, CpuStats, CpuUsage, CpusetStats, HugetlbStats, MemoryEntry,
    MemoryStats, PidsStats, Stats, Throttling,
};

/// Everything that can go wrong in this module. Each message names the file, the value or the config field,
/// and ends with the errno text, so one line tells the whole story (as `sys::SysError` does).
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("read `{}`: {}", path.display(), os(err))]
    Read { path: PathBuf, err: std::io::Error },
    #[error("write `{value}` to `{}`: {}", path.display(), os(err))]
    Write {
        path: PathBuf,
        value: String,
        err: std::io::Error,
    },
    #[error("mkdir `{}`: {}", path.display(), os(err))]
    Mkdir { path: PathBuf, err: std::io::Error },
    #[error("rmdir `{}`: {}", path.display(), os(err))]
    Rmdir { path: PathBuf, err: std::io::Error },
    #[error("open `{}`: {}", path.display(), os(err))]
    Open { path: PathBuf, err: std::io::Error },
    #[error("parse `{value}` in `{}` as {what}", path.display())]
    Parse {
        path: PathBuf,
        value: String,
        what: &'static str,
    },
    /// A config field the host cannot apply, or whose value is invalid.
    #[error("{field}: {reason}")]
    Unsupported { field: String, reason: String },
    /// A config field whose application failed in `inner`.
    #[error("{field}: {inner}")]
    Field {
        field: String,
        inner: Box<CgroupError>,
    },
    #[error("linux.cgroupsPath `{path}`: {reason}")]
    CgroupsPath { path: String, reason: String },
    #[error("no cgroup filesystem is mounted (looked in {what})")]
    NoCgroupfs { what: String },
    #[error("{what} `{}` did not finish within {timeout:?}", path.display())]
    Timeout {
        what: &'static str,
        path: PathBuf,
        timeout: Duration,
    },
    #[error("{call} {what}: {}", errno.desc())]
    Sys {
        call: &'static str,
        what: String,
        errno: nix::Error,
    },
}

/// The errno text of an I/O error ("Device or resource busy"), without Rust's "(os error N)".
fn os(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => nix::errno::Errno::from_raw(n).desc().to_string(),
        None => e.to_string(),
    }
}

/// Wrap an error with the config field whose application failed.
pub(crate) fn in_field(field: impl Into<String>) -> impl FnOnce(CgroupError) -> CgroupError {
    let field = field.into();
    move |e| match e {
        e @ (CgroupError::Unsupported { .. } | CgroupError::Field { .. }) => e,
        e => CgroupError::Field {
            field,
            inner: Box::new(e),
        },
    }
}

pub(crate) fn unsupported(field: impl Into<String>, reason: impl Into<String>) -> CgroupError {
    CgroupError::Unsupported {
        field: field.into(),
        reason: reason.into(),
    }
}

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostLayout {
    /// Only v1 hierarchies.
    V1,
    /// Only the cgroup2 hierarchy.
    V2,
    /// v1 hierarchies for the controllers, plus a cgroup2 hierarchy (usually with few or no controllers).
    Hybrid,
}

/// The host as this module sees it. `Host::current()` reads the real one; tests build a fake.
#[derive(Debug, Clone)]
pub struct Host {
    /// Text of /proc/self/mountinfo.
    pub mountinfo: String,
    /// Text of /proc/self/cgroup.
    pub self_cgroup: String,
    /// Every absolute path (mount points, /run/systemd/system) is taken below this: `/` on a real host.
    pub root: PathBuf,
}

impl Host {
    pub fn current() -> Result<Host, CgroupError> {
        let proc = Path::new("/proc/self");
        Ok(Host {
            mountinfo: files::read(proc, "mountinfo")?,
            self_cgroup: files::read(proc, "cgroup")?,
            root: PathBuf::from("/"),
        })
    }

    fn is_fake(&self) -> bool {
        self.root != Path::new("/")
    }
}

/// The layout of this host, from /proc/self/mountinfo (V1 when nothing can be read or nothing is mounted).
pub fn host_layout() -> HostLayout {
    Host::current()
        .ok()
        .and_then(|h| path::parse_mountinfo(&h.mountinfo, &h.root).layout())
        .unwrap_or(HostLayout::V1)
}

/// The `linux.cgroup` part of `brig features`: what this build supports (not what the host has).
pub fn features() -> oci_spec::runtime::Cgroup {
    let mut f = oci_spec::runtime::Cgroup::default();
    f.set_v1(Some(true));
    f.set_v2(Some(true));
    f.set_systemd(Some(false));
    f.set_systemd_user(Some(false));
    f.set_rdma(Some(true));
    f
}

/// The container's cgroup in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hierarchy {
    /// v1: the controllers bound to this hierarchy (`name=systemd` for a named one). cgroup2: the controllers
    /// its root offers (`cgroup.controllers`), i.e. those this module may use there.
    pub controllers: Vec<String>,
    /// Where the hierarchy is mounted.
    pub mount: PathBuf,
    /// The container's cgroup directory.
    pub path: PathBuf,
}

/// The container's cgroup: resolved directories in every hierarchy of the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cgroup {
    pub layout: HostLayout,
    /// One entry per mounted v1 hierarchy (empty on a pure v2 host).
    pub v1: Vec<Hierarchy>,
    /// The cgroup2 hierarchy, when mounted (pure v2, or the unified part of a hybrid host).
    pub unified: Option<Hierarchy>,
    /// Ancestors of the container's directories that `create` made; `destroy` removes them again when
    /// nothing else lives in them (e.g. the `/brig-test` of `/brig-test/<id>`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<PathBuf>,
    /// Built against a fake host root (unit tests): eBPF device programs are built but not attached.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fake_root: bool,
}

/// Where one controller lives for this container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place<'a> {
    V1(&'a Path),
    V2(&'a Path),
}

const DESTROY_TIMEOUT: Duration = Duration::from_secs(10);

impl Cgroup {
    /// Resolve where the container's cgroup lives on this host (see [`Cgroup::with_host`]).
    pub fn new(
        cgroups_path: Option<&Path>,
        id: &str,
        systemd: bool,
    ) -> Result<Cgroup, CgroupError> {
        Cgroup::with_host(&Host::current()?, cgroups_path, id, systemd)
    }

    /// Resolve `linux.cgroupsPath`: absolute is below each hierarchy's root; relative is below the caller's
    /// own cgroup (v1) or its parent (cgroup2), as runc does; absent means the container id, relative.
    /// With `systemd`, the `slice:prefix:name` form is checked and refused with the reason (no D-Bus here).
    pub fn with_host(
        host: &Host,
        cgroups_path: Option<&Path>,
        id: &str,
        systemd: bool,
    ) -> Result<Cgroup, CgroupError> {
        let mounts = path::parse_mountinfo(&host.mountinfo, &host.root);
        let layout = mounts.layout().ok_or_else(|| CgroupError::NoCgroupfs {
            what: "mountinfo".to_string(),
        })?;
        let systemd_running = path::under_root(&host.root, "/run/systemd/system").is_dir();
        let inner = path::inner_path(cgroups_path, id, systemd, systemd_running)?;
        let own = path::parse_self_cgroup(&host.self_cgroup);
        let v1 = mounts
            .v1
            .iter()
            .map(|m| Hierarchy {
                controllers: m.controllers.clone(),
                mount: m.mount_point.clone(),
                path: path::v1_dir(m, &own, &inner),
            })
            .collect();
        let unified = match &mounts.unified {
            Some(m) => {
                let controllers = files::read_opt(&m.mount_point, "cgroup.controllers")?
                    .map(|s| s.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default();
                Some(Hierarchy {
                    controllers,
                    mount: m.mount_point.clone(),
                    path: path::unified_dir(m, &own, &inner),
                })
            }
            None => None,
        };
        Ok(Cgroup {
            layout,
            v1,
            unified,
            created: Vec::new(),
            fake_root: host.is_fake(),
        })
    }

    /// The container's directory in the v1 hierarchy of `controller`.
    pub fn v1_path(&self, controller: &str) -> Option<&Path> {
        self.v1
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == controller))
            .map(|h| h.path.as_path())
    }

    /// The container's directory in the cgroup2 hierarchy.
    pub fn unified_path(&self) -> Option<&Path> {
        self.unified.as_ref().map(|h| h.path.as_path())
    }

    /// Where `controller` lives: its v1 hierarchy if mounted, else cgroup2 if offered there.
    pub(crate) fn place(&self, controller: &str) -> Option<Place<'_>> {
        if let Some(p) = self.v1_path(controller) {
            return Some(Place::V1(p));
        }
        let u = self.unified.as_ref()?;
        u.controllers
            .iter()
            .any(|c| c == controller)
            .then_some(Place::V2(u.path.as_path()))
    }

    /// `exec --cgroup`: this cgroup with existing sub-cgroups of it chosen, from runc's
    /// `[<controller>[,<controller>...]:]<path>` values. The path is joined onto the container's
    /// cgroup (`/` or empty = the container's own); a plain path serves every hierarchy and may
    /// only be given alone; a controller-prefixed one serves the v1 hierarchy of those
    /// controllers (a pure v2 host takes the plain form only, as runc). The sub-cgroup must
    /// exist and stay below the container's (no `..`).
    pub fn sub_cgroup(&self, specs: &[String]) -> Result<Cgroup, CgroupError> {
        let bad = |reason: String| CgroupError::Unsupported {
            field: "--cgroup".to_string(),
            reason,
        };
        let mut all: Option<&str> = None;
        let mut per: Vec<(&str, &str)> = Vec::new();
        for spec in specs {
            let (ctrls, path) = match spec.split_once(':') {
                Some((c, p)) => (Some(c), p),
                None => (None, spec.as_str()),
            };
            let path = path.trim_start_matches('/');
            if Path::new(path)
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(bad(format!(
                    "`{spec}`: the sub-cgroup must stay below the container's (no `..`)"
                )));
            }
            match ctrls {
                None if specs.len() > 1 => {
                    return Err(bad(format!(
                        "`{spec}`: missing <controller>: prefix (a plain path must be given alone)"
                    )))
                }
                None => all = Some(path),
                Some(list) => {
                    if self.layout == HostLayout::V2 {
                        return Err(bad(format!(
                            "`{spec}`: a controller-specific sub-cgroup needs cgroup v1"
                        )));
                    }
                    for c in list.split(',') {
                        if c.is_empty() {
                            return Err(bad(format!("`{spec}`: empty controller name")));
                        }
                        if per.iter().any(|(seen, _)| *seen == c) {
                            return Err(bad(format!("`{spec}`: controller `{c}` given twice")));
                        }
                        if self.v1_path(c).is_none() {
                            return Err(bad(format!("`{spec}`: no v1 hierarchy has `{c}`")));
                        }
                        per.push((c, path));
                    }
                }
            }
        }
        let mut out = self.clone();
        let hierarchies = out.v1.iter_mut().chain(out.unified.as_mut());
        for h in hierarchies {
            let sub = per
                .iter()
                .find(|(c, _)| h.controllers.iter().any(|hc| hc == c))
                .map(|(_, p)| *p)
                .or(all);
            if let Some(sub) = sub.filter(|p| !p.is_empty()) {
                h.path.push(sub);
                if !h.path.is_dir() {
                    return Err(bad(format!(
                        "sub-cgroup `{}` does not exist",
                        h.path.display()
                    )));
                }
            }
        }
        Ok(out)
    }

    /// The container's distinct directories, v1 hierarchies first, then cgroup2 (e.g. for bind mounts
    /// of the container's own cgroups into its /sys/fs/cgroup).
    pub fn dirs(&self) -> Vec<&Path> {
        let mut dirs: Vec<&Path> = Vec::new();
        for p in self
            .v1
            .iter()
            .map(|h| h.path.as_path())
            .chain(self.unified_path())
        {
            if !dirs.contains(&p) {
                dirs.push(p);
            }
        }
        dirs
    }

    /// The directory whose `cgroup.procs` tree lists the container's processes.
    fn process_dir(&self) -> Option<&Path> {
        if self.layout == HostLayout::V2 {
            return self.unified_path();
        }
        ["pids", "freezer", "memory", "cpu", "devices"]
            .iter()
            .find_map(|c| self.v1_path(c))
            .or_else(|| self.v1.first().map(|h| h.path.as_path()))
            .or_else(|| self.unified_path())
    }

    /// mkdir the container's cgroup in every hierarchy (cgroup2: controllers enabled in the parents),
    /// then apply `resources` and the device rules (spec rules + runc's default allow-list).
    /// On error, removes the directories it made. Records the ancestors it made in `created`.
    pub fn create(&mut self, resources: Option<&LinuxResources>) -> Result<(), CgroupError> {
        let mut made: Vec<PathBuf> = Vec::new();
        let res = self.create_inner(resources, &mut made);
        if res.is_err() {
            for d in made.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
            return res;
        }
        let leaves = self
            .dirs()
            .into_iter()
            .map(Path::to_path_buf)
            .collect::<Vec<_>>();
        self.created
            .extend(made.into_iter().filter(|d| !leaves.contains(d)));
        res
    }

    fn create_inner(
        &self,
        resources: Option<&LinuxResources>,
        made: &mut Vec<PathBuf>,
    ) -> Result<(), CgroupError> {
        for h in &self.v1 {
            mkdir_all(&h.mount, &h.path, made)?;
            if h.controllers.iter().any(|c| c == "cpuset") {
                v1::init_cpuset(&h.mount, &h.path)?;
            }
        }
        if let Some(u) = &self.unified {
            mkdir_all(&u.mount, &u.path, made)?;
            if self.layout == HostLayout::V2 {
                // Pure v2: every controller the root offers, so that limits and stats can be set later.
                let all: Vec<&str> = u.controllers.iter().map(String::as_str).collect();
                v2::enable_controllers(&u.mount, &u.path, &all, false)?;
            }
        }
        let empty = LinuxResources::default();
        self.apply(resources.unwrap_or(&empty), true)
    }

    /// fd of the cgroup2 directory, for clone3(CLONE_INTO_CGROUP). None without a cgroup2 hierarchy.
    pub fn clone_into_fd(&self) -> Option<std::os::fd::OwnedFd> {
        let dir = self.unified_path()?;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(dir)
            .ok()?;
        Some(f.into())
    }

    /// Put `pid` into the container's cgroup in every hierarchy (not cgroup2 if `in_unified_already`).
    pub fn add_task(&self, pid: i32, in_unified_already: bool) -> Result<(), CgroupError> {
        let unified = self.unified_path();
        for dir in self.dirs() {
            if in_unified_already && Some(dir) == unified {
                continue;
            }
            files::write(dir, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// Every process in the container's cgroup and its descendants.
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let Some(dir) = self.process_dir() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for d in files::subtree_deepest_first(dir) {
            for p in files::procs(&d)? {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }

    /// The freezer in use: v1 freezer hierarchy if mounted, else cgroup2.
    fn freezer(&self) -> Option<Place<'_>> {
        self.v1_path("freezer")
            .map(Place::V1)
            .or_else(|| self.unified_path().map(Place::V2))
    }

    fn no_freezer(&self) -> CgroupError {
        unsupported(
            "freezer",
            "no v1 freezer hierarchy and no cgroup2 hierarchy on this host",
        )
    }

    /// Freeze every process, waiting until the kernel reports the cgroup frozen.
    pub fn freeze(&self) -> Result<(), CgroupError> {
        match self.freezer().ok_or_else(|| self.no_freezer())? {
            Place::V1(d) => v1::freeze(d),
            Place::V2(d) => v2::freeze(d, true),
        }
    }

    pub fn thaw(&self) -> Result<(), CgroupError> {
        match self.freezer().ok_or_else(|| self.no_freezer())? {
            Place::V1(d) => v1::thaw(d),
            Place::V2(d) => v2::freeze(d, false),
        }
    }

    pub fn is_frozen(&self) -> Result<bool, CgroupError> {
        match self.freezer().ok_or_else(|| self.no_freezer())? {
            Place::V1(d) => Ok(files::read(d, "freezer.state")?.trim() == "FROZEN"),
            Place::V2(d) => v2::is_frozen(d),
        }
    }

    /// Apply new resources to a live container (`brig update`). Devices are changed only when given.
    pub fn update(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        self.apply(resources, false)
    }

    /// Counters in the shape of runc's `events --stats`.
    pub fn stats(&self) -> Result<Stats, CgroupError> {
        stats::collect(self)
    }

    /// OOM kills so far (v2 memory.events `oom_kill`; v1 memory.oom_control `oom_kill`).
    pub fn oom_count(&self) -> Result<u64, CgroupError> {
        match self.place("memory") {
            Some(Place::V1(d)) => {
                Ok(files::keyed_value(d, "memory.oom_control", "oom_kill")?.unwrap_or(0))
            }
            Some(Place::V2(d)) => {
                Ok(files::keyed_value(d, "memory.events", "oom_kill")?.unwrap_or(0))
            }
            None => Err(unsupported("memory", "no memory controller on this host")),
        }
    }

    /// An fd that becomes readable when the memory cgroup has an OOM event (v1: eventfd on
    /// memory.oom_control, read it to reset; v2: inotify on memory.events, which also changes for other
    /// memory events: compare [`Cgroup::oom_count`] after each wake-up), for `brig events`.
    pub fn oom_notifier(&self) -> Result<std::os::fd::OwnedFd, CgroupError> {
        match self.place("memory") {
            Some(Place::V1(d)) => oom::watch_v1(d),
            Some(Place::V2(d)) => oom::watch_v2(d),
            None => Err(unsupported("memory", "no memory controller on this host")),
        }
    }

    /// Send `sig` to every process of the container. Processes are frozen first so none forks past the
    /// signal (runc does the same); SIGKILL on cgroup2 uses `cgroup.kill` when the kernel has it. A frozen
    /// (paused) cgroup stays frozen, except after SIGKILL, which needs a thaw to take effect on v1.
    /// `sig` is a `nix` [`Signal`] or a raw signal number (`libc::SIGKILL`).
    pub fn signal_all<S: TryInto<Signal>>(&self, sig: S) -> Result<(), CgroupError> {
        let sig = sig.try_into().map_err(|_| CgroupError::Unsupported {
            field: "signal".to_string(),
            reason: "not a valid signal number".to_string(),
        })?;
        if sig == Signal::SIGKILL {
            if let Some(u) = self
                .unified_path()
                .filter(|_| self.layout == HostLayout::V2)
            {
                if files::exists(u, "cgroup.kill") {
                    return files::write(u, "cgroup.kill", "1");
                }
            }
        }
        // A paused container stays paused, unless SIGKILL must be delivered (v1 tasks die only when thawed).
        let was_frozen = self.is_frozen().unwrap_or(false);
        let froze = !was_frozen && self.freeze().is_ok();
        let res = (|| {
            for pid in self.pids()? {
                match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig) {
                    Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                    Err(errno) => {
                        return Err(CgroupError::Sys {
                            call: "kill",
                            what: format!("{pid} with {sig}"),
                            errno,
                        })
                    }
                }
            }
            Ok(())
        })();
        if froze || (was_frozen && sig == Signal::SIGKILL) {
            self.thaw()?;
        }
        res
    }

    /// SIGKILL everything, wait until empty, rmdir every hierarchy deepest first. Missing dirs are fine.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        if self.dirs().iter().any(|d| d.exists()) {
            let deadline = Instant::now() + DESTROY_TIMEOUT;
            loop {
                if self.pids()?.is_empty() {
                    break;
                }
                self.signal_all(Signal::SIGKILL)?;
                if Instant::now() > deadline {
                    let path = self.process_dir().unwrap_or(Path::new("/")).to_path_buf();
                    return Err(CgroupError::Timeout {
                        what: "killing the processes of",
                        path,
                        timeout: DESTROY_TIMEOUT,
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        for dir in self.dirs() {
            if self.fake_root {
                // A fake cgroupfs holds real files, which rmdir would refuse.
                let _ = std::fs::remove_dir_all(dir);
                continue;
            }
            for d in files::subtree_deepest_first(dir) {
                rmdir_retry(&d)?;
            }
        }
        // Ancestors we made, deepest first; one still used by another container stays (EBUSY/ENOTEMPTY).
        let mut created: Vec<&PathBuf> = self.created.iter().collect();
        created.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        for d in created {
            let _ = std::fs::remove_dir(d);
        }
        Ok(())
    }

    /// Apply every `linux.resources` field where its controller lives. `create` also applies the default
    /// device rules; `update` touches devices only when the update lists some.
    fn apply(&self, res: &LinuxResources, create: bool) -> Result<(), CgroupError> {
        if let Some(p) = res.pids() {
            match self.require("pids", "linux.resources.pids")? {
                Place::V1(d) | Place::V2(d) => v1::pids(d, p.limit())?,
            }
        }
        if let Some(m) = res.memory() {
            if v1::memory_is_set(m) {
                match self.require("memory", "linux.resources.memory")? {
                    Place::V1(d) => v1::memory(d, m)?,
                    Place::V2(d) => v2::memory(d, m)?,
                }
            }
        }
        if let Some(b) = res.block_io() {
            if v1::blkio_is_set(b) {
                match self.place("blkio").or_else(|| self.place("io")) {
                    Some(Place::V1(d)) => v1::blkio(d, b)?,
                    Some(Place::V2(d)) => v2::io(d, b)?,
                    None => return Err(self.missing("blkio/io", "linux.resources.blockIO")),
                }
            }
        }
        if let Some(c) = res.cpu() {
            if v1::cpu_is_set(c) {
                match self.require("cpu", "linux.resources.cpu")? {
                    Place::V1(d) => v1::cpu(d, c)?,
                    Place::V2(d) => v2::cpu(d, c)?,
                }
            }
            if c.cpus().is_some() || c.mems().is_some() {
                match self.require("cpuset", "linux.resources.cpu.cpus")? {
                    Place::V1(d) | Place::V2(d) => v1::cpuset(d, c)?,
                }
            }
        }
        if let Some(h) = res.hugepage_limits() {
            if !h.is_empty() {
                match self.require("hugetlb", "linux.resources.hugepageLimits")? {
                    Place::V1(d) => v1::hugetlb(d, h)?,
                    Place::V2(d) => v2::hugetlb(d, h)?,
                }
            }
        }
        if let Some(n) = res.network() {
            if let Some(id) = n.class_id() {
                match self.place("net_cls") {
                    Some(Place::V1(d)) => v1::net_cls(d, id)?,
                    _ => return Err(self.missing("net_cls", "linux.resources.network.classID")),
                }
            }
            if let Some(prios) = n.priorities().as_ref().filter(|p| !p.is_empty()) {
                match self.place("net_prio") {
                    Some(Place::V1(d)) => v1::net_prio(d, prios)?,
                    _ => return Err(self.missing("net_prio", "linux.resources.network.priorities")),
                }
            }
        }
        if let Some(r) = res.rdma().as_ref().filter(|r| !r.is_empty()) {
            match self.require("rdma", "linux.resources.rdma")? {
                Place::V1(d) | Place::V2(d) => v1::rdma(d, r)?,
            }
        }
        if create || res.devices().is_some() {
            self.apply_devices(res)?;
        }
        if let Some(u) = res.unified().as_ref().filter(|u| !u.is_empty()) {
            self.apply_unified(u)?;
        }
        Ok(())
    }

    /// The place of `controller`, enabling it in the cgroup2 parents if it lives there; else an error
    /// naming `field`.
    fn require(&self, controller: &str, field: &str) -> Result<Place<'_>, CgroupError> {
        let place = self
            .place(controller)
            .ok_or_else(|| self.missing(controller, field))?;
        if let (Place::V2(d), Some(u)) = (place, &self.unified) {
            v2::enable_controllers(&u.mount, d, &[controller], true).map_err(in_field(field))?;
        }
        Ok(place)
    }

    fn missing(&self, controller: &str, field: &str) -> CgroupError {
        let reason = match self.layout {
            HostLayout::V1 => format!("the {controller} controller is not mounted (no v1 hierarchy for it)"),
            HostLayout::V2 if controller == "net_cls" || controller == "net_prio" => {
                "not supported on cgroup v2 (net_cls/net_prio are v1-only controllers)".to_string()
            }
            HostLayout::V2 => format!("the {controller} controller is not available (not in cgroup.controllers)"),
            HostLayout::Hybrid => format!(
                "the {controller} controller is neither mounted as a v1 hierarchy nor offered by cgroup2"
            ),
        };
        unsupported(field, reason)
    }

    fn apply_devices(&self, res: &LinuxResources) -> Result<(), CgroupError> {
        let field = "linux.resources.devices";
        let rules = devices::rules_with_defaults(res.devices().as_deref().unwrap_or(&[]));
        if let Some(d) = self.v1_path("devices") {
            return devices::apply_v1(d, &rules).map_err(in_field(field));
        }
        match (&self.unified, self.layout) {
            (Some(u), HostLayout::V2 | HostLayout::Hybrid) => {
                let prog =
                    devices::Program::build(&rules).map_err(|reason| unsupported(field, reason))?;
                if self.fake_root {
                    tracing::debug!(
                        insns = prog.insns.len(),
                        "fake cgroupfs: device program built, not attached"
                    );
                    return Ok(());
                }
                bpf::replace_device_program(&u.path, &prog.insns).map_err(in_field(field))
            }
            _ if res.devices().as_ref().is_some_and(|d| !d.is_empty()) => {
                Err(self.missing("devices", field))
            }
            _ => {
                tracing::warn!("no devices cgroup on this host: device rules not enforced");
                Ok(())
            }
        }
    }

    fn apply_unified(
        &self,
        values: &std::collections::HashMap<String, String>,
    ) -> Result<(), CgroupError> {
        let Some(u) = &self.unified else {
            return Err(unsupported(
                "linux.resources.unified",
                "requires cgroup v2 (this host has only v1)",
            ));
        };
        let mut keys: Vec<&String> = values.keys().collect();
        keys.sort();
        for key in keys {
            let field = format!("linux.resources.unified.{key}");
            if key.contains('/') || key.starts_with('.') || key.is_empty() {
                return Err(unsupported(field, "not a cgroup file name"));
            }
            let controller = key.split('.').next().unwrap_or("");
            if controller != "cgroup" {
                if self.v1_path(controller).is_some() {
                    return Err(unsupported(
                        field,
                        format!("the {controller} controller is a v1 hierarchy on this host, not in cgroup2"),
                    ));
                }
                if !u.controllers.iter().any(|c| c == controller) {
                    return Err(unsupported(
                        field,
                        format!("the {controller} controller is not available in cgroup2"),
                    ));
                }
                v2::enable_controllers(&u.mount, &u.path, &[controller], true)
                    .map_err(in_field(field.clone()))?;
            }
            if !files::exists(&u.path, key) {
                return Err(unsupported(
                    field,
                    format!("no such file in `{}`", u.path.display()),
                ));
            }
            files::write(&u.path, key, &values[key]).map_err(in_field(field))?;
        }
        Ok(())
    }
}

/// mkdir every missing directory from below `mount` down to `leaf`, recording what was made. An ancestor
/// removed meanwhile by another container's destroy (ENOENT) is made again.
fn mkdir_all(mount: &Path, leaf: &Path, made: &mut Vec<PathBuf>) -> Result<(), CgroupError> {
    let rel = leaf.strip_prefix(mount).unwrap_or(leaf);
    let mut attempts = 0;
    'again: loop {
        let mut cur = mount.to_path_buf();
        for c in rel.components() {
            cur.push(c);
            match std::fs::create_dir(&cur) {
                Ok(()) => made.push(cur.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < 3 => {
                    attempts += 1;
                    continue 'again;
                }
                Err(err) => return Err(CgroupError::Mkdir { path: cur, err }),
            }
        }
        return Ok(());
    }
}

/// rmdir, fine when missing; EBUSY (a task still exiting) is retried for a short while.
fn rmdir_retry(d: &Path) -> Result<(), CgroupError> {
    let mut delay = Duration::from_millis(10);
    for attempt in 0.. {
        match std::fs::remove_dir(d) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && attempt < 7 => {
                std::thread::sleep(delay);
                delay *= 2;
            }
            Err(err) => {
                return Err(CgroupError::Rmdir {
                    path: d.to_path_buf(),
                    err,
                })
            }
        }
    }
    unreachable!("the retry loop returns")
}
