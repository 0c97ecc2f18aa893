//! One `mounts[]` entry: its options parsed the way runc reads them (flags, propagation,
//! recursive attributes, extensions, the rest as data), and the mount(2) calls that apply it.

use nix::mount::MsFlags;
use std::path::PathBuf;

/// mount_setattr(2) attributes, for the recursive `r*` options.
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
pub const MOUNT_ATTR_RELATIME: u64 = 0x0;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR__ATIME: u64 = 0x70;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
pub const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x0020_0000;

/// A mount entry ready to apply: everything the init needs, computed before the clone.
#[derive(Debug, Clone)]
pub struct MountPlan {
    pub index: usize,
    pub destination: PathBuf,
    pub typ: String,
    /// Source, absolute for binds (relative sources are taken from the bundle).
    pub source: Option<PathBuf>,
    pub flags: MsFlags,
    /// Flags explicitly cleared (e.g. `rw`, `suid`): needed when remounting binds.
    pub cleared: MsFlags,
    pub propagation: Vec<MsFlags>,
    /// mount_setattr: (attributes to set, attributes to clear).
    pub rec_set: u64,
    pub rec_clear: u64,
    pub data: String,
    pub bind: bool,
    pub tmpcopyup: bool,
    pub idmap: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OptionError {
    #[error("mounts[{index}].options: `{option}` is not supported: {why}")]
    Unsupported {
        index: usize,
        option: String,
        why: &'static str,
    },
}

/// Parse one entry's options. Unknown options become filesystem data, as in runc.
pub fn plan(
    index: usize,
    m: &oci_spec::runtime::Mount,
    bundle: &std::path::Path,
) -> Result<MountPlan, OptionError> {
    let mut p = MountPlan {
        index,
        destination: m.destination().clone(),
        typ: m.typ().clone().unwrap_or_default(),
        source: None,
        flags: MsFlags::empty(),
        cleared: MsFlags::empty(),
        propagation: Vec::new(),
        rec_set: 0,
        rec_clear: 0,
        data: String::new(),
        bind: false,
        tmpcopyup: false,
        idmap: false,
    };
    let mut data = Vec::new();
    for opt in m.options().as_deref().unwrap_or_default() {
        let o = opt.as_str();
        if let Some((set, flag)) = flag_option(o) {
            if set {
                p.flags |= flag;
                p.cleared &= !flag;
            } else {
                p.flags &= !flag;
                p.cleared |= flag;
            }
            continue;
        }
        if let Some(prop) = propagation_option(o) {
            p.propagation.push(prop);
            continue;
        }
        if let Some((set, attr)) = recursive_option(o) {
            if set {
                p.rec_set |= attr;
            } else {
                p.rec_clear |= attr;
            }
            continue;
        }
        match o {
            "bind" => p.bind = true,
            "rbind" => {
                p.bind = true;
                p.flags |= MsFlags::MS_REC;
            }
            "tmpcopyup" => p.tmpcopyup = true,
            "idmap" | "ridmap" => p.idmap = true,
            "defaults" => {}
            _ => data.push(o.to_string()),
        }
    }
    if p.typ == "bind" {
        p.bind = true;
    }
    if p.idmap {
        return Err(OptionError::Unsupported {
            index,
            option: "idmap".into(),
            why: "id-mapped mounts are not implemented by brig yet",
        });
    }
    p.data = data.join(",");
    p.source = m.source().clone().map(|s| {
        if p.bind && s.is_relative() {
            bundle.join(s)
        } else {
            s
        }
    });
    Ok(p)
}

/// `(true, F)`: the option sets flag F; `(false, F)`: it clears F.
pub fn flag_option(o: &str) -> Option<(bool, MsFlags)> {
    use MsFlags as F;
    Some(match o {
        "ro" => (true, F::MS_RDONLY),
        "rw" => (false, F::MS_RDONLY),
        "nosuid" => (true, F::MS_NOSUID),
        "suid" => (false, F::MS_NOSUID),
        "nodev" => (true, F::MS_NODEV),
        "dev" => (false, F::MS_NODEV),
        "noexec" => (true, F::MS_NOEXEC),
        "exec" => (false, F::MS_NOEXEC),
        "sync" => (true, F::MS_SYNCHRONOUS),
        "async" => (false, F::MS_SYNCHRONOUS),
        "dirsync" => (true, F::MS_DIRSYNC),
        "remount" => (true, F::MS_REMOUNT),
        "mand" => (true, F::MS_MANDLOCK),
        "nomand" => (false, F::MS_MANDLOCK),
        "atime" => (false, F::MS_NOATIME),
        "noatime" => (true, F::MS_NOATIME),
        "diratime" => (false, F::MS_NODIRATIME),
        "nodiratime" => (true, F::MS_NODIRATIME),
        "relatime" => (true, F::MS_RELATIME),
        "norelatime" => (false, F::MS_RELATIME),
        "strictatime" => (true, F::MS_STRICTATIME),
        "nostrictatime" => (false, F::MS_STRICTATIME),
        "lazytime" => (true, F::MS_LAZYTIME),
        "nolazytime" => (false, F::MS_LAZYTIME),
        "iversion" => (true, F::MS_I_VERSION),
        "noiversion" => (false, F::MS_I_VERSION),
        "silent" => (true, F::MS_SILENT),
        "loud" => (false, F::MS_SILENT),
        "nosymfollow" => (true, F::from_bits_retain(libc::MS_NOSYMFOLLOW)),
        "symfollow" => (false, F::from_bits_retain(libc::MS_NOSYMFOLLOW)),
        _ => return None,
    })
}

pub fn propagation_option(o: &str) -> Option<MsFlags> {
    use MsFlags as F;
    Some(match o {
        "private" => F::MS_PRIVATE,
        "rprivate" => F::MS_PRIVATE | F::MS_REC,
        "shared" => F::MS_SHARED,
        "rshared" => F::MS_SHARED | F::MS_REC,
        "slave" => F::MS_SLAVE,
        "rslave" => F::MS_SLAVE | F::MS_REC,
        "unbindable" => F::MS_UNBINDABLE,
        "runbindable" => F::MS_UNBINDABLE | F::MS_REC,
        _ => return None,
    })
}

/// The `r*` options that apply recursively through mount_setattr(AT_RECURSIVE).
pub fn recursive_option(o: &str) -> Option<(bool, u64)> {
    Some(match o {
        "rro" => (true, MOUNT_ATTR_RDONLY),
        "rrw" => (false, MOUNT_ATTR_RDONLY),
        "rnosuid" => (true, MOUNT_ATTR_NOSUID),
        "rsuid" => (false, MOUNT_ATTR_NOSUID),
        "rnodev" => (true, MOUNT_ATTR_NODEV),
        "rdev" => (false, MOUNT_ATTR_NODEV),
        "rnoexec" => (true, MOUNT_ATTR_NOEXEC),
        "rexec" => (false, MOUNT_ATTR_NOEXEC),
        "rnodiratime" => (true, MOUNT_ATTR_NODIRATIME),
        "rdiratime" => (false, MOUNT_ATTR_NODIRATIME),
        "rnoatime" => (true, MOUNT_ATTR_NOATIME),
        "rstrictatime" => (true, MOUNT_ATTR_STRICTATIME),
        "rrelatime" => (true, MOUNT_ATTR_RELATIME | (1 << 63)),
        "rnosymfollow" => (true, MOUNT_ATTR_NOSYMFOLLOW),
        "rsymfollow" => (false, MOUNT_ATTR_NOSYMFOLLOW),
        _ => return None,
    })
}

/// mount_setattr(fd, "", AT_EMPTY_PATH|AT_RECURSIVE, {set, clear}).
pub fn setattr_recursive(
    fd: std::os::fd::BorrowedFd,
    set: u64,
    clear: u64,
) -> Result<(), nix::Error> {
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    let mut set = set;
    let mut clear = clear;
    // atime modes are a 3-bit field: setting one means clearing the field first.
    if set & (MOUNT_ATTR__ATIME | (1 << 63)) != 0 {
        clear |= MOUNT_ATTR__ATIME;
        set &= !(1 << 63);
    }
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    use std::os::fd::AsRawFd;
    // SAFETY: the path is a static empty C string, `attr` is a valid mount_attr that outlives the
    // call; the kernel only reads it.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if rc < 0 {
        Err(nix::Error::last())
    } else {
        Ok(())
    }
}

/// Every mount option brig understands (flags, propagation, recursive attributes, extensions),
/// for `brig features`. Anything else is passed to the filesystem as data.
pub fn known_options() -> Vec<&'static str> {
    let mut v = vec![
        "ro",
        "rw",
        "nosuid",
        "suid",
        "nodev",
        "dev",
        "noexec",
        "exec",
        "sync",
        "async",
        "dirsync",
        "remount",
        "mand",
        "nomand",
        "atime",
        "noatime",
        "diratime",
        "nodiratime",
        "relatime",
        "norelatime",
        "strictatime",
        "nostrictatime",
        "lazytime",
        "nolazytime",
        "iversion",
        "noiversion",
        "silent",
        "loud",
        "nosymfollow",
        "symfollow",
        "private",
        "rprivate",
        "shared",
        "rshared",
        "slave",
        "rslave",
        "unbindable",
        "runbindable",
        "rro",
        "rrw",
        "rnosuid",
        "rsuid",
        "rnodev",
        "rdev",
        "rnoexec",
        "rexec",
        "rnodiratime",
        "rdiratime",
        "rnoatime",
        "rstrictatime",
        "rrelatime",
        "rnosymfollow",
        "rsymfollow",
        "bind",
        "rbind",
        "tmpcopyup",
        "defaults",
    ];
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(typ: &str, src: &str, opts: &[&str]) -> oci_spec::runtime::Mount {
        let mut m = oci_spec::runtime::Mount::default();
        m.set_destination("/x".into());
        m.set_typ(Some(typ.into()));
        m.set_source(Some(src.into()));
        m.set_options(Some(opts.iter().map(|s| s.to_string()).collect()));
        m
    }

    #[test]
    fn options_split_into_flags_propagation_and_data() {
        let p = plan(
            0,
            &mount(
                "tmpfs",
                "tmpfs",
                &["nosuid", "strictatime", "mode=755", "size=65536k", "rslave"],
            ),
            "/b".as_ref(),
        )
        .unwrap();
        assert!(p
            .flags
            .contains(MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME));
        assert_eq!(p.data, "mode=755,size=65536k");
        assert_eq!(p.propagation, vec![MsFlags::MS_SLAVE | MsFlags::MS_REC]);
        assert!(!p.bind);
    }

    #[test]
    fn binds_resolve_relative_sources_and_track_cleared_flags() {
        let p = plan(
            3,
            &mount("none", "data", &["rbind", "ro", "rw", "nodev"]),
            "/bundle".as_ref(),
        )
        .unwrap();
        assert!(p.bind && p.flags.contains(MsFlags::MS_REC | MsFlags::MS_NODEV));
        assert!(!p.flags.contains(MsFlags::MS_RDONLY) && p.cleared.contains(MsFlags::MS_RDONLY));
        assert_eq!(p.source.unwrap(), PathBuf::from("/bundle/data"));
        let p = plan(0, &mount("bind", "/abs", &["rro"]), "/bundle".as_ref()).unwrap();
        assert!(p.bind && p.rec_set == MOUNT_ATTR_RDONLY);
    }

    #[test]
    fn idmap_is_a_clear_error() {
        let e = plan(2, &mount("bind", "/a", &["idmap"]), "/b".as_ref()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("mounts[2].options: `idmap` is not supported"),
            "{e}"
        );
    }
}
