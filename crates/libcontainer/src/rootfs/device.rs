//! Device nodes in the container's /dev: the default set, `linux.devices`, and the /dev symlinks.
//! mknod when brig is real root; a bind mount of the host node inside a user namespace.

use nix::mount::{mount, MsFlags};
use nix::sys::stat::{Mode, SFlag};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::path::{ensure_in_root, open_in_root, proc_fd_path, Kind};
use crate::sys::{Ctx, SysError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePlan {
    pub path: PathBuf,
    pub kind: SFlag,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// The devices every container gets (runc's list): null, zero, full, random, urandom, tty.
pub fn defaults() -> Vec<DevicePlan> {
    [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ]
    .iter()
    .map(|&(name, major, minor)| DevicePlan {
        path: PathBuf::from("/dev").join(name),
        kind: SFlag::S_IFCHR,
        major,
        minor,
        mode: 0o666,
        uid: 0,
        gid: 0,
    })
    .collect()
}

/// `linux.devices[]` entries, with runc's defaults (mode 0666 when absent, uid/gid 0).
pub fn from_spec(devices: &[oci_spec::runtime::LinuxDevice]) -> Vec<DevicePlan> {
    use oci_spec::runtime::LinuxDeviceType as T;
    devices
        .iter()
        .map(|d| DevicePlan {
            path: d.path().clone(),
            kind: match d.typ() {
                T::B => SFlag::S_IFBLK,
                T::P => SFlag::S_IFIFO,
                _ => SFlag::S_IFCHR,
            },
            major: d.major() as u64,
            minor: d.minor() as u64,
            mode: d.file_mode().unwrap_or(0o666) & 0o7777,
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        })
        .collect()
}

/// Create one node under `root`. In a user namespace, bind-mount the host's node instead.
pub fn create(root: BorrowedFd, d: &DevicePlan, bind_from_host: bool) -> Result<(), SysError> {
    let what = || format!("`{}`", d.path.display());
    let parent = d.path.parent().unwrap_or(Path::new("/"));
    let name = d
        .path
        .file_name()
        .ok_or_else(|| SysError::new("mknod", what(), nix::Error::EINVAL))?;
    let dir = ensure_in_root(root, parent, Kind::Dir, 0o755)?;
    if bind_from_host {
        let target = ensure_in_root(root, &d.path, Kind::File, 0)?;
        return mount(
            Some(&d.path),
            &proc_fd_path(target.as_fd()),
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .ctx("mount(bind device)", what());
    }
    let cname = CString::new(name.as_bytes())
        .map_err(|_| SysError::new("mknod", what(), nix::Error::EINVAL))?;
    let dev = libc::makedev(d.major as u32, d.minor as u32);
    // SAFETY: valid dirfd (O_PATH directory) and NUL-terminated name; mknodat does not follow links.
    let rc = unsafe {
        libc::mknodat(
            dir.as_raw_fd(),
            cname.as_ptr(),
            d.kind.bits() | (d.mode & 0o7777),
            dev,
        )
    };
    if rc < 0 {
        match nix::Error::last() {
            nix::Error::EEXIST => return Ok(()),
            e => return Err(SysError::new("mknod", what(), e)),
        }
    }
    let node = open_in_root(root, &d.path, 0).ctx("openat2", what())?;
    // The mode passed to mknod is filtered by the umask: set it exactly, and the owner.
    nix::unistd::fchownat(
        node.as_fd(),
        "",
        Some(d.uid.into()),
        Some(d.gid.into()),
        nix::fcntl::AtFlags::AT_EMPTY_PATH,
    )
    .ctx("chown", what())?;
    nix::sys::stat::fchmodat(
        dir.as_fd(),
        name,
        Mode::from_bits_truncate(d.mode),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
    .ctx("chmod", what())?;
    Ok(())
}

/// /dev/fd, /dev/std{in,out,err}, /dev/ptmx -> pts/ptmx, and /dev/core when the host has kcore.
pub fn symlinks(root: BorrowedFd) -> Result<(), SysError> {
    let dev = ensure_in_root(root, Path::new("/dev"), Kind::Dir, 0o755)?;
    let mut links = vec![
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("core", "/proc/kcore"));
    }
    for (name, target) in links {
        if name == "ptmx" {
            let _ =
                nix::unistd::unlinkat(dev.as_fd(), name, nix::unistd::UnlinkatFlags::NoRemoveDir);
        }
        match nix::unistd::symlinkat(target, dev.as_fd(), name) {
            Ok(()) | Err(nix::Error::EEXIST) => {}
            Err(e) => return Err(SysError::new("symlink", format!("`/dev/{name}`"), e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_devices_get_runc_defaults() {
        let d: oci_spec::runtime::LinuxDevice =
            serde_json::from_str(r#"{"path":"/dev/fuse","type":"c","major":10,"minor":229}"#)
                .unwrap();
        let p = &from_spec(&[d])[0];
        assert_eq!(
            (p.kind, p.major, p.minor, p.mode, p.uid, p.gid),
            (SFlag::S_IFCHR, 10, 229, 0o666, 0, 0)
        );
        assert_eq!(defaults().len(), 6);
    }
}
