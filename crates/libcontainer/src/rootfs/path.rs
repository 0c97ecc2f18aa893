//! Resolving paths inside the rootfs without ever leaving it: openat2(RESOLVE_IN_ROOT) treats the
//! rootfs as `/` for `..` and absolute symlinks, so a hostile rootfs cannot redirect a mount to a
//! host path. Creates missing directories/files the same way.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::sys::SysError;

/// openat2(dirfd, path, O_PATH|O_CLOEXEC [| extra], RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS).
pub fn open_in_root(
    root: BorrowedFd,
    path: &Path,
    extra_flags: i32,
) -> Result<OwnedFd, nix::Error> {
    let rel = relative(path);
    let c = CString::new(rel.as_os_str().as_bytes()).map_err(|_| nix::Error::EINVAL)?;
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    let how = OpenHow {
        flags: (libc::O_PATH | libc::O_CLOEXEC | extra_flags) as u64,
        mode: 0,
        resolve: libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS,
    };
    loop {
        // SAFETY: `c` is a valid NUL-terminated string and `how` a valid open_how that outlive the
        // call; the kernel copies both. The returned fd, if any, is ours alone.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root.as_raw_fd(),
                c.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if rc >= 0 {
            // SAFETY: the kernel just returned this fd to us and nothing else owns it.
            return Ok(unsafe { OwnedFd::from_raw_fd(rc as i32) });
        }
        match nix::Error::last() {
            nix::Error::EAGAIN | nix::Error::EINTR => continue,
            e => return Err(e),
        }
    }
}

/// `path` with its root and `.` parts removed (`/a/./b` -> `a/b`; `/` -> `.`).
pub fn relative(path: &Path) -> PathBuf {
    let p: PathBuf = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
        .collect();
    if p.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        p
    }
}

/// What to create when the target is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// Open `path` under `root` (O_PATH), creating it (and missing parents) as `kind` if absent.
pub fn ensure_in_root(
    root: BorrowedFd,
    path: &Path,
    kind: Kind,
    mode: u32,
) -> Result<OwnedFd, SysError> {
    ensure_depth(root, path, kind, mode, 0)
}

fn ensure_depth(
    root: BorrowedFd,
    path: &Path,
    kind: Kind,
    mode: u32,
    depth: u32,
) -> Result<OwnedFd, SysError> {
    let err = |call, e| SysError::new(call, format!("`{}` in rootfs", path.display()), e);
    match open_in_root(root, path, 0) {
        Ok(fd) => return Ok(fd),
        Err(nix::Error::ENOENT) => {}
        Err(e) => return Err(err("openat2", e)),
    }
    let rel = relative(path);
    let mut parent = open_in_root(root, Path::new("."), 0).map_err(|e| err("openat2", e))?;
    let comps: Vec<_> = rel.components().collect();
    for (i, comp) in comps.iter().enumerate() {
        let so_far: PathBuf = comps[..=i].iter().collect();
        match open_in_root(root, &so_far, 0) {
            Ok(fd) => {
                parent = fd;
                continue;
            }
            Err(nix::Error::ENOENT) => {}
            Err(e) => return Err(err("openat2", e)),
        }
        let name = CString::new(comp.as_os_str().as_bytes())
            .map_err(|_| err("mkdirat", nix::Error::EINVAL))?;
        let last = i + 1 == comps.len();
        if last && kind == Kind::File {
            // SAFETY: valid dirfd and NUL-terminated name; O_CREAT|O_EXCL never follows symlinks.
            let fd = unsafe {
                libc::openat(
                    parent.as_raw_fd(),
                    name.as_ptr(),
                    libc::O_CREAT
                        | libc::O_EXCL
                        | libc::O_WRONLY
                        | libc::O_CLOEXEC
                        | libc::O_NOFOLLOW,
                    mode,
                )
            };
            if fd < 0 && nix::Error::last() != nix::Error::EEXIST {
                return Err(err("openat(O_CREAT)", nix::Error::last()));
            }
            if fd >= 0 {
                // SAFETY: fd was just returned by openat and is owned by nobody else.
                drop(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        } else {
            let m = if last { mode } else { 0o755 };
            // SAFETY: valid dirfd and NUL-terminated name.
            if unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), m) } < 0
                && nix::Error::last() != nix::Error::EEXIST
            {
                return Err(err("mkdirat", nix::Error::last()));
            }
        }
        parent = match open_in_root(root, &so_far, 0) {
            Ok(fd) => fd,
            // A dangling symlink: create what it points to (inside the root) and go on there.
            Err(nix::Error::ENOENT) if depth < 40 => {
                let link =
                    nix::fcntl::readlinkat(root, &so_far).map_err(|e| err("readlinkat", e))?;
                let base = so_far.parent().unwrap_or(Path::new(""));
                let target = if Path::new(&link).is_absolute() {
                    PathBuf::from(&link)
                } else {
                    base.join(&link)
                };
                let rest: PathBuf = comps[i + 1..].iter().collect();
                return ensure_depth(root, &target.join(rest), kind, mode, depth + 1);
            }
            Err(e) => return Err(err("openat2", e)),
        };
    }
    Ok(parent)
}

/// The path through which the kernel reaches an open fd (for mount(2) targets).
pub fn proc_fd_path(fd: BorrowedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn symlinks_cannot_escape_the_root() {
        let tmp = crate::testutil::TempDir::new("path-test");
        let dir = tmp.path().to_path_buf();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::os::unix::fs::symlink("/", dir.join("escape")).unwrap();
        std::os::unix::fs::symlink("../../../../tmp", dir.join("up")).unwrap();
        let root: OwnedFd = std::fs::File::open(&dir).unwrap().into();
        // `/escape/newdir` must land in <root>/newdir, not /newdir on the host.
        let fd = ensure_in_root(
            root.as_fd(),
            Path::new("/escape/brig-newdir"),
            Kind::Dir,
            0o755,
        )
        .unwrap();
        let real = std::fs::read_link(proc_fd_path(fd.as_fd())).unwrap();
        assert_eq!(real, dir.join("brig-newdir"));
        let fd = ensure_in_root(root.as_fd(), Path::new("/up/x/file"), Kind::File, 0o644).unwrap();
        assert_eq!(
            std::fs::read_link(proc_fd_path(fd.as_fd())).unwrap(),
            dir.join("tmp/x/file")
        );
        assert_eq!(relative(Path::new("/")), PathBuf::from("."));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
