//! Making the rootfs the container's `/`: pivot_root(".", ".") on directory fds (nothing is
//! created inside the rootfs, which may be read-only), or MS_MOVE + chroot with `--no-pivot`.

use nix::fcntl::{open, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, chroot, fchdir, pivot_root};
use std::path::Path;

use crate::sys::{Ctx, SysError};

pub fn pivot(rootfs: &Path) -> Result<(), SysError> {
    let dir = OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    let old = open("/", dir, Mode::empty()).ctx("open", "/")?;
    let new = open(rootfs, dir, Mode::empty()).ctx("open", rootfs.display())?;
    fchdir(&new).ctx("fchdir", rootfs.display())?;
    pivot_root(".", ".").ctx("pivot_root", rootfs.display())?;
    // The old root is now stacked under the new one; step onto it and detach it, making it a
    // slave first so the unmount does not propagate back to the host.
    fchdir(&old).ctx("fchdir", "old root")?;
    mount(
        None::<&str>,
        ".",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .ctx("mount(rslave)", "old root")?;
    umount2(".", MntFlags::MNT_DETACH).ctx("umount2", "old root")?;
    chdir("/").ctx("chdir", "/")
}

pub fn move_and_chroot(rootfs: &Path) -> Result<(), SysError> {
    chdir(rootfs).ctx("chdir", rootfs.display())?;
    mount(
        Some(rootfs),
        "/",
        None::<&str>,
        MsFlags::MS_MOVE,
        None::<&str>,
    )
    .ctx("mount(move)", rootfs.display())?;
    chroot(".").ctx("chroot", rootfs.display())?;
    chdir("/").ctx("chdir", "/")
}
