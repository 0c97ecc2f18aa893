//! Rootfs: bind the bundle's root, apply `mounts[]`, create /dev, pivot, then mask and
//! read-only paths, sysctls and the read-only root. Runs in the init, inside the new mount
//! namespace; touches only that namespace's mounts and files under the rootfs.

pub mod device;
pub mod mount;
pub mod path;
pub mod pivot;

use nix::mount::{mount as sys_mount, MsFlags};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::sys::{Ctx, SysError};
use device::DevicePlan;
use mount::MountPlan;
use path::{ensure_in_root, open_in_root, proc_fd_path, Kind};

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("mounts[{index}] (destination `{dest}`): {source}")]
    Mount {
        index: usize,
        dest: PathBuf,
        source: SysError,
    },
    #[error("linux.devices (`{path}`): {source}")]
    Device { path: PathBuf, source: SysError },
    #[error("rootfs `{path}`: {source}")]
    Root { path: PathBuf, source: SysError },
    #[error("{field} `{path}`: {source}")]
    Path {
        field: &'static str,
        path: String,
        source: SysError,
    },
    #[error("linux.sysctl.{key}: write `{path}`: {source}")]
    Sysctl {
        key: String,
        path: String,
        source: std::io::Error,
    },
}

/// Everything the init needs to build the rootfs, computed by brig before the clone.
#[derive(Debug, Clone)]
pub struct RootfsConfig {
    pub rootfs: PathBuf,
    pub readonly: bool,
    /// Propagation for `/` in the new mount namespace (runc: rslave unless rootfsPropagation).
    pub root_propagation: MsFlags,
    /// `linux.rootfsPropagation` applied to the rootfs mount itself, if given.
    pub rootfs_propagation: Option<MsFlags>,
    pub mounts: Vec<MountPlan>,
    pub devices: Vec<DevicePlan>,
    /// False when the spec bind-mounts /dev from the host: then brig creates no nodes there.
    pub setup_dev: bool,
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
    pub sysctl: Vec<(String, String)>,
    pub no_pivot: bool,
    /// Inside a new user namespace: mknod is not allowed, devices are bind-mounted.
    pub in_userns: bool,
    /// The container has its own cgroup namespace (new or joined): mount real cgroup filesystems.
    pub new_cgroupns: bool,
}

/// Step 3a: make our mounts private to us, then bind the rootfs onto itself so it is a mount.
pub fn prepare(cfg: &RootfsConfig) -> Result<OwnedFd, RootfsError> {
    let root_err = |source| RootfsError::Root {
        path: cfg.rootfs.clone(),
        source,
    };
    sys_mount(
        None::<&str>,
        "/",
        None::<&str>,
        cfg.root_propagation,
        None::<&str>,
    )
    .ctx("mount(propagation)", "/")
    .map_err(root_err)?;
    make_parent_private(&cfg.rootfs).map_err(root_err)?;
    sys_mount(
        Some(&cfg.rootfs),
        &cfg.rootfs,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .ctx("mount(rbind)", cfg.rootfs.display())
    .map_err(root_err)?;
    let fd = nix::fcntl::open(
        &cfg.rootfs,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .ctx("open", cfg.rootfs.display())
    .map_err(root_err)?;
    Ok(fd)
}

/// pivot_root refuses a new root that is, or sits on, a shared mount: make the mount holding
/// the rootfs private before the rootfs is bound onto itself (the bind then starts a private
/// mount of its own). That mount is the rootfs itself when the rootfs is a mount point (as
/// containerd's overlay snapshots are), which a `/` made rshared by `rootfsPropagation` has
/// just made shared; otherwise the mount the rootfs directory lives on (runc's
/// rootfsParentMountPrivate).
fn make_parent_private(rootfs: &Path) -> Result<(), SysError> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| {
        SysError::new(
            "read",
            "/proc/self/mountinfo",
            nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })?;
    if let Some((mp, true)) = holding_mount(&info, rootfs) {
        sys_mount(
            None::<&str>,
            mp.as_str(),
            None::<&str>,
            MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .ctx("mount(private)", &mp)?;
    }
    Ok(())
}

/// The mount (mount point, whether it is shared) that `path` is on, from mountinfo text: the
/// longest mount point that is `path` or one of its ancestors; the last one mounted wins a tie.
/// Mount points come unescaped (mountinfo writes a space as `\040`).
fn holding_mount(mountinfo: &str, path: &Path) -> Option<(String, bool)> {
    let mut best: Option<(String, bool)> = None;
    for line in mountinfo.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f.len() < 7 {
            continue;
        }
        let mp = crate::cgroups::unescape_mountinfo(f[4]);
        if path.starts_with(&mp) && best.as_ref().is_none_or(|(b, _)| mp.len() >= b.len()) {
            let shared = f[6..]
                .iter()
                .take_while(|x| **x != "-")
                .any(|x| x.starts_with("shared:"));
            best = Some((mp, shared));
        }
    }
    best
}

/// Step 3b: every `mounts[]` entry, in order.
pub fn mount_all(cfg: &RootfsConfig, root: BorrowedFd) -> Result<(), RootfsError> {
    for m in &cfg.mounts {
        mount_one(cfg, root, m).map_err(|source| RootfsError::Mount {
            index: m.index,
            dest: m.destination.clone(),
            source,
        })?;
    }
    Ok(())
}

fn mount_one(cfg: &RootfsConfig, root: BorrowedFd, m: &MountPlan) -> Result<(), SysError> {
    let dest = &m.destination;
    let kind = match (&m.source, m.bind) {
        (Some(src), true) if !std::fs::metadata(src).map(|md| md.is_dir()).unwrap_or(true) => {
            Kind::File
        }
        _ => Kind::Dir,
    };
    if m.bind {
        if let Some(src) = &m.source {
            std::fs::symlink_metadata(src).map_err(|e| {
                SysError::new("stat", format!("source `{}`", src.display()), errno(&e))
            })?;
        }
    }
    // A tmpfs over a directory that already exists takes that directory's mode (after any
    // copy-up), over the `mode=` option: runc does the same (`/tmp` keeps its 1777).
    let tmpfs = !m.bind && m.typ == "tmpfs";
    let covered_mode = if tmpfs {
        open_in_root(root, dest, 0)
            .ok()
            .and_then(|fd| nix::sys::stat::fstat(&fd).ok())
            .map(|st| st.st_mode & 0o7777)
    } else {
        None
    };
    let under = ensure_in_root(root, dest, kind, 0o755)?;
    let target = proc_fd_path(under.as_fd());
    let data = (!m.data.is_empty()).then_some(m.data.as_str());
    if m.bind {
        let src = m.source.as_deref().unwrap_or(Path::new(""));
        sys_mount(
            Some(src),
            &target,
            None::<&str>,
            MsFlags::MS_BIND | (m.flags & MsFlags::MS_REC),
            None::<&str>,
        )
        .ctx("mount(bind)", format!("`{}`", src.display()))?;
        let extra = m.flags & !(MsFlags::MS_REC | MsFlags::MS_BIND | MsFlags::MS_REMOUNT);
        if !extra.is_empty() {
            let top = open_in_root(root, dest, 0).ctx("openat2", dest.display())?;
            let t = proc_fd_path(top.as_fd());
            let flags =
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | extra | (locked_flags(&t) & !m.cleared);
            sys_mount(None::<&str>, &t, None::<&str>, flags, None::<&str>)
                .ctx("mount(remount)", dest.display())?;
        }
    } else if m.typ == "cgroup" || m.typ == "cgroup2" {
        mount_cgroup(cfg, root, m, &target)?;
    } else {
        let src = m
            .source
            .as_deref()
            .map(|s| s.as_os_str())
            .unwrap_or(m.typ.as_ref());
        // A read-only tmpfs is mounted read-write: it is filled (copy-up), chmod-ed, given the
        // mount points of later mounts and device nodes, and made read-only by `finish`, as
        // runc's finalizeRootfs does.
        let ro_later = tmpfs && m.flags.contains(MsFlags::MS_RDONLY);
        let flags = if ro_later {
            m.flags & !MsFlags::MS_RDONLY
        } else {
            m.flags
        };
        let r = sys_mount(Some(src), &target, Some(m.typ.as_str()), flags, data);
        match r {
            Err(nix::Error::EPERM) if m.typ == "sysfs" && cfg.in_userns => {
                // A user namespace without its own network namespace may not mount sysfs:
                // bind the host's, read-only (as runc does).
                sys_mount(
                    Some("/sys"),
                    &target,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .ctx("mount(rbind)", "/sys")?;
                let top = open_in_root(root, dest, 0).ctx("openat2", dest.display())?;
                let t = proc_fd_path(top.as_fd());
                sys_mount(
                    None::<&str>,
                    &t,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | locked_flags(&t),
                    None::<&str>,
                )
                .ctx("mount(remount)", dest.display())?;
            }
            r => r.ctx("mount", format!("{} `{}`", m.typ, src.to_string_lossy()))?,
        }
        if m.tmpcopyup || covered_mode.is_some() {
            let top = open_in_root(root, dest, 0).ctx("openat2", dest.display())?;
            let top_path = proc_fd_path(top.as_fd());
            if m.tmpcopyup {
                copy_tree(&target, &top_path).map_err(|e| {
                    SysError::new("tmpcopyup", dest.display().to_string(), errno(&e))
                })?;
            }
            if let Some(mode) = covered_mode {
                nix::sys::stat::fchmodat(
                    nix::fcntl::AT_FDCWD,
                    &top_path,
                    nix::sys::stat::Mode::from_bits_truncate(mode),
                    nix::sys::stat::FchmodatFlags::FollowSymlink,
                )
                .ctx("chmod", dest.display())?;
            }
        }
    }
    if !m.propagation.is_empty() || m.rec_set != 0 || m.rec_clear != 0 {
        let top = open_in_root(root, dest, 0).ctx("openat2", dest.display())?;
        let t = proc_fd_path(top.as_fd());
        for p in &m.propagation {
            sys_mount(None::<&str>, &t, None::<&str>, *p, None::<&str>)
                .ctx("mount(propagation)", dest.display())?;
        }
        if m.rec_set != 0 || m.rec_clear != 0 {
            mount::setattr_recursive(top.as_fd(), m.rec_set, m.rec_clear)
                .ctx("mount_setattr", dest.display())?;
        }
    }
    Ok(())
}

fn errno(e: &std::io::Error) -> nix::Error {
    nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// Flags a bind remount must keep (the kernel refuses to clear them in a user namespace).
fn locked_flags(path: &Path) -> MsFlags {
    use nix::sys::statvfs::FsFlags;
    let Ok(st) = nix::sys::statvfs::statvfs(path) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let mut out = MsFlags::empty();
    for (s, m) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if f.contains(s) {
            out |= m;
        }
    }
    out
}

/// Copy the contents of the directory that a tmpfs now hides (reached through an fd opened
/// before the mount) into the tmpfs: the `tmpcopyup` extension. The tmpfs root's own mode is the
/// caller's business; subdirectories keep their modes whatever the umask.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let ft = entry.file_type()?;
        if ft.is_dir() {
            std::fs::create_dir(&dst)?;
            let mode = std::fs::metadata(&src)?.mode() & 0o7777;
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode))?;
            copy_tree(&src, &dst)?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if ft.is_file() {
            std::fs::copy(&src, &dst)?;
        }
        let md = std::fs::symlink_metadata(&src)?;
        let _ = std::os::unix::fs::lchown(&dst, Some(md.uid()), Some(md.gid()));
    }
    Ok(())
}

/// A `cgroup` mount: with a private cgroup namespace, real cgroup filesystems (rooted at the
/// container's cgroup). Without one: on a pure v2 host a real cgroup2 mount too, showing the
/// whole tree as runc and crun do (so `/sys/fs/cgroup` + the path in `/proc/self/cgroup` is the
/// container's cgroup), or, where that mount is refused (a user namespace), a bind mount of the
/// host's whole cgroup2 tree, as runc; on v1, bind mounts of the container's own directories.
fn mount_cgroup(
    cfg: &RootfsConfig,
    root: BorrowedFd,
    m: &MountPlan,
    target: &Path,
) -> Result<(), SysError> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| SysError::new("read", "/proc/self/mountinfo", errno(&e)))?;
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| SysError::new("read", "/proc/self/cgroup", errno(&e)))?;
    let hierarchies = cgroup_mounts(&info);
    let ro = m.flags & MsFlags::MS_RDONLY;
    let base = m.flags & (MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC);
    let pure_v2 = hierarchies.len() == 1 && hierarchies[0].fstype == "cgroup2";
    if pure_v2 {
        let r = sys_mount(
            Some("cgroup2"),
            target,
            Some("cgroup2"),
            base | ro,
            None::<&str>,
        );
        match r {
            Err(nix::Error::EPERM | nix::Error::EBUSY) if !cfg.new_cgroupns => {}
            r => return r.ctx("mount", "cgroup2"),
        }
        let src = hierarchies[0].mountpoint.clone();
        sys_mount(
            Some(src.as_str()),
            target,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .ctx("mount(bind)", &src)?;
        let top = open_in_root(root, &m.destination, 0).ctx("openat2", m.destination.display())?;
        let t = proc_fd_path(top.as_fd());
        return sys_mount(
            None::<&str>,
            &t,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | base | ro | locked_flags(&t),
            None::<&str>,
        )
        .ctx("mount(remount)", m.destination.display());
    }
    // v1 or hybrid: a tmpfs holding one directory per hierarchy.
    sys_mount(Some("tmpfs"), target, Some("tmpfs"), base, Some("mode=755"))
        .ctx("mount", "tmpfs for cgroup")?;
    for h in &hierarchies {
        let name = Path::new(&h.mountpoint)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        let dest = m.destination.join(&name);
        let fd = ensure_in_root(root, &dest, Kind::Dir, 0o755)?;
        let t = proc_fd_path(fd.as_fd());
        if cfg.new_cgroupns {
            if h.fstype == "cgroup2" {
                sys_mount(
                    Some("cgroup2"),
                    &t,
                    Some("cgroup2"),
                    base | ro,
                    None::<&str>,
                )
                .ctx("mount", "cgroup2")?;
            } else {
                sys_mount(
                    Some("cgroup"),
                    &t,
                    Some("cgroup"),
                    base | ro,
                    Some(h.options.as_str()),
                )
                .ctx("mount", format!("cgroup {}", h.options))?;
            }
        } else {
            let key = if h.fstype == "cgroup2" {
                String::new()
            } else {
                h.options.clone()
            };
            let sub = own
                .lines()
                .filter_map(|l| {
                    let mut it = l.splitn(3, ':');
                    let (_, ctrls, path) = (it.next()?, it.next()?, it.next()?);
                    Some((ctrls, path))
                })
                .find(|(ctrls, _)| *ctrls == key)
                .map(|(_, p)| p)
                .unwrap_or("/");
            let src = format!("{}{}", h.mountpoint, if sub == "/" { "" } else { sub });
            sys_mount(
                Some(src.as_str()),
                &t,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .ctx("mount(bind)", &src)?;
            let top = open_in_root(root, &dest, 0).ctx("openat2", dest.display())?;
            let tt = proc_fd_path(top.as_fd());
            sys_mount(
                None::<&str>,
                &tt,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | base | ro | locked_flags(&tt),
                None::<&str>,
            )
            .ctx("mount(remount)", dest.display())?;
        }
    }
    // Co-mounted hierarchies (`cpu,cpuacct`): one symlink per controller, as runc and systemd make,
    // so `/sys/fs/cgroup/cpu/cpu.cfs_quota_us` works inside as it does on the host.
    let top = open_in_root(root, &m.destination, 0).ctx("openat2", m.destination.display())?;
    for h in hierarchies.iter().filter(|h| h.fstype == "cgroup") {
        let Some(name) = Path::new(&h.mountpoint)
            .file_name()
            .and_then(|n| n.to_str())
        else {
            continue;
        };
        if !name.contains(',') {
            continue;
        }
        for link in name.split(',').filter(|c| !c.is_empty() && *c != name) {
            match nix::unistd::symlinkat(name, top.as_fd(), link) {
                Ok(()) | Err(nix::Error::EEXIST) => {}
                Err(e) => {
                    return Err(SysError::new(
                        "symlink",
                        format!("`{}`", m.destination.join(link).display()),
                        e,
                    ))
                }
            }
        }
    }
    if !ro.is_empty() {
        let top = open_in_root(root, &m.destination, 0).ctx("openat2", m.destination.display())?;
        let t = proc_fd_path(top.as_fd());
        sys_mount(
            None::<&str>,
            &t,
            None::<&str>,
            MsFlags::MS_REMOUNT | base | ro,
            Some("mode=755"),
        )
        .ctx("mount(remount ro)", m.destination.display())?;
    }
    Ok(())
}

/// Step 3c: device nodes and /dev symlinks (unless /dev comes from the host).
pub fn create_devices(cfg: &RootfsConfig, root: BorrowedFd) -> Result<(), RootfsError> {
    if !cfg.setup_dev {
        return Ok(());
    }
    for d in &cfg.devices {
        device::create(root, d, cfg.in_userns).map_err(|source| RootfsError::Device {
            path: d.path.clone(),
            source,
        })?;
    }
    device::symlinks(root).map_err(|source| RootfsError::Device {
        path: "/dev".into(),
        source,
    })
}

/// Step 4a: make the rootfs `/`.
pub fn pivot(cfg: &RootfsConfig) -> Result<(), RootfsError> {
    let r = if cfg.no_pivot {
        pivot::move_and_chroot(&cfg.rootfs)
    } else {
        pivot::pivot(&cfg.rootfs)
    };
    r.map_err(|source| RootfsError::Root {
        path: cfg.rootfs.clone(),
        source,
    })?;
    // `linux.rootfsPropagation` on the new root, now that pivot_root (which refuses shared
    // mounts) is done.
    if let Some(p) = cfg.rootfs_propagation {
        sys_mount(None::<&str>, "/", None::<&str>, p, None::<&str>)
            .ctx("mount(propagation)", "/")
            .map_err(|source| RootfsError::Root {
                path: cfg.rootfs.clone(),
                source,
            })?;
    }
    Ok(())
}

/// Step 4b, after pivot: sysctls, read-only paths, masked paths, read-only tmpfs mounts,
/// read-only root.
pub fn finish(cfg: &RootfsConfig) -> Result<(), RootfsError> {
    for (key, value) in &cfg.sysctl {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        std::fs::write(&path, value.as_bytes()).map_err(|source| RootfsError::Sysctl {
            key: key.clone(),
            path,
            source,
        })?;
    }
    for p in &cfg.readonly_paths {
        readonly_path(p).map_err(|source| RootfsError::Path {
            field: "linux.readonlyPaths",
            path: p.clone(),
            source,
        })?;
    }
    for p in &cfg.masked_paths {
        mask_path(p).map_err(|source| RootfsError::Path {
            field: "linux.maskedPaths",
            path: p.clone(),
            source,
        })?;
    }
    // Read-only tmpfs mounts, mounted read-write by mount_one.
    for m in cfg
        .mounts
        .iter()
        .filter(|m| !m.bind && m.typ == "tmpfs" && m.flags.contains(MsFlags::MS_RDONLY))
    {
        sys_mount(
            None::<&str>,
            &m.destination,
            None::<&str>,
            m.flags | MsFlags::MS_REMOUNT,
            None::<&str>,
        )
        .ctx("mount(remount ro)", m.destination.display())
        .map_err(|source| RootfsError::Mount {
            index: m.index,
            dest: m.destination.clone(),
            source,
        })?;
    }
    if cfg.readonly {
        let flags = MsFlags::MS_BIND
            | MsFlags::MS_REMOUNT
            | MsFlags::MS_RDONLY
            | locked_flags(Path::new("/"));
        sys_mount(None::<&str>, "/", None::<&str>, flags, None::<&str>)
            .ctx("mount(remount ro)", "/")
            .map_err(|source| RootfsError::Path {
                field: "root.readonly",
                path: "/".into(),
                source,
            })?;
    }
    Ok(())
}

fn readonly_path(p: &str) -> Result<(), SysError> {
    match sys_mount(
        Some(p),
        p,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    ) {
        Err(nix::Error::ENOENT) => return Ok(()),
        r => r.ctx("mount(rbind)", p)?,
    }
    let flags = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY
        | MsFlags::MS_REC
        | locked_flags(Path::new(p));
    sys_mount(None::<&str>, p, None::<&str>, flags, None::<&str>).ctx("mount(remount ro)", p)
}

fn mask_path(p: &str) -> Result<(), SysError> {
    match sys_mount(
        Some("/dev/null"),
        p,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    ) {
        Ok(()) | Err(nix::Error::ENOENT) => Ok(()),
        Err(nix::Error::ENOTDIR) => sys_mount(
            Some("tmpfs"),
            p,
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .ctx("mount(tmpfs ro)", p),
        Err(e) => Err(SysError::new("mount(bind /dev/null)", p, e)),
    }
}

/// A cgroup filesystem mounted on the host, from mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    pub mountpoint: String,
    pub fstype: String,
    /// v1: the controllers (and `name=`) as /proc/self/cgroup lists them, e.g. `cpu,cpuacct`.
    pub options: String,
}

/// The cgroup (v1) and cgroup2 mounts listed in a mountinfo text, first mount of each kind.
pub fn cgroup_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    let mut out: Vec<CgroupMount> = Vec::new();
    for line in mountinfo.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let mut post = post.split(' ');
        let (Some(fstype), Some(_src), Some(sopts)) = (post.next(), post.next(), post.next())
        else {
            continue;
        };
        if fstype != "cgroup" && fstype != "cgroup2" {
            continue;
        }
        let Some(mountpoint) = pre.split(' ').nth(4) else {
            continue;
        };
        let options = if fstype == "cgroup" {
            sopts
                .split(',')
                .filter(|o| {
                    ![
                        "rw",
                        "ro",
                        "xattr",
                        "clone_children",
                        "noprefix",
                        "cpuset_v2_mode",
                        "favordynmods",
                    ]
                    .contains(o)
                        && !o.starts_with("release_agent=")
                })
                .collect::<Vec<_>>()
                .join(",")
        } else {
            String::new()
        };
        if out
            .iter()
            .any(|m| m.fstype == fstype && m.options == options)
        {
            continue;
        }
        out.push(CgroupMount {
            mountpoint: crate::cgroups::unescape_mountinfo(mountpoint),
            fstype: fstype.to_string(),
            options,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_mounts_of_a_hybrid_host() {
        let info = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
99 31 0:29 / /other/cpu rw,relatime - cgroup cgroup rw,cpu";
        let m = cgroup_mounts(info);
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0],
            CgroupMount {
                mountpoint: "/sys/fs/cgroup/cpu".into(),
                fstype: "cgroup".into(),
                options: "cpu".into()
            }
        );
        assert_eq!(m[1].options, "name=systemd");
        assert_eq!(
            (m[2].fstype.as_str(), m[2].options.as_str()),
            ("cgroup2", "")
        );
    }

    #[test]
    fn holding_mount_of_the_rootfs() {
        let info = "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
60 27 0:50 / /run rw shared:7 - tmpfs tmpfs rw
90 27 0:61 / /tmp/s/c1/rootfs rw,relatime shared:40 - overlay overlay rw,lowerdir=/l
91 27 0:62 / /tmp/s/c2/rootfs rw,relatime - overlay overlay rw,lowerdir=/l";
        // A rootfs that is a mount point: that mount itself, not the one its directory is on.
        assert_eq!(
            holding_mount(info, Path::new("/tmp/s/c1/rootfs")),
            Some(("/tmp/s/c1/rootfs".to_string(), true))
        );
        assert_eq!(
            holding_mount(info, Path::new("/tmp/s/c2/rootfs")),
            Some(("/tmp/s/c2/rootfs".to_string(), false))
        );
        // A plain directory: the mount it lives on; path components, not string prefixes.
        assert_eq!(
            holding_mount(info, Path::new("/tmp/s/c1/rootfs2")),
            Some(("/".to_string(), true))
        );
        assert_eq!(
            holding_mount(info, Path::new("/runner/x")),
            Some(("/".to_string(), true))
        );
        assert_eq!(
            holding_mount(info, Path::new("/run/x/rootfs")),
            Some(("/run".to_string(), true))
        );
        // Stacked mounts: the last one wins.
        let stacked = "27 1 254:0 / / rw shared:1 - ext4 /dev/vda rw
90 27 0:61 / /b/rootfs rw shared:40 - overlay overlay rw
95 90 0:63 / /b/rootfs rw - tmpfs tmpfs rw";
        assert_eq!(
            holding_mount(stacked, Path::new("/b/rootfs")),
            Some(("/b/rootfs".to_string(), false))
        );
    }
}
