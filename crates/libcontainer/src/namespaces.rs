//! Linux namespaces from `linux.namespaces`: which to create, which to join by path, in what order.
//!
//! Touches only the calling process's namespace membership (setns/unshare) and the files named
//! by `path`, which are opened before the clone so a bad path fails before anything exists.

use nix::sched::CloneFlags;
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use crate::sys::{Ctx, SysError};

#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("linux.namespaces[{index}] ({typ}): open `{path}`: {source}")]
    Open {
        index: usize,
        typ: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("linux.namespaces[{index}] ({typ}): `{path}` is not a {typ} namespace")]
    WrongType {
        index: usize,
        typ: String,
        path: PathBuf,
    },
    #[error("linux.namespaces: {0} namespaces are not supported by this kernel")]
    Unsupported(String),
    #[error(transparent)]
    Sys(#[from] SysError),
}

pub fn clone_flag(typ: LinuxNamespaceType) -> CloneFlags {
    match typ {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

/// The /proc/PID/ns/<name> entry for a type.
pub fn proc_name(typ: LinuxNamespaceType) -> &'static str {
    match typ {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Time => "time",
    }
}

/// A namespace to join: its type and an open fd of the path.
#[derive(Debug)]
pub struct Join {
    pub typ: LinuxNamespaceType,
    pub fd: OwnedFd,
}

/// What the spec asks for, resolved before the clone.
#[derive(Debug)]
pub struct Plan {
    /// CLONE_NEW* flags of the namespaces to create.
    pub new: CloneFlags,
    /// Namespaces to join, user first, then the order the kernel needs (mnt last).
    pub join: Vec<Join>,
}

impl Plan {
    pub fn from_spec(namespaces: &[LinuxNamespace]) -> Result<Plan, NamespaceError> {
        let mut plan = Plan {
            new: CloneFlags::empty(),
            join: Vec::new(),
        };
        for (index, ns) in namespaces.iter().enumerate() {
            let typ = ns.typ();
            match ns.path() {
                None => {
                    if !std::path::Path::new("/proc/self/ns")
                        .join(proc_name(typ))
                        .exists()
                    {
                        return Err(NamespaceError::Unsupported(proc_name(typ).to_string()));
                    }
                    plan.new |= clone_flag(typ);
                }
                Some(path) => {
                    let typ_s = proc_name(typ).to_string();
                    let f = std::fs::OpenOptions::new()
                        .read(true)
                        .custom_flags_cloexec()
                        .open(path)
                        .map_err(|source| NamespaceError::Open {
                            index,
                            typ: typ_s.clone(),
                            path: path.clone(),
                            source,
                        })?;
                    let fd: OwnedFd = f.into();
                    if let Some(actual) = ns_type_of(&fd) {
                        if actual != clone_flag(typ).bits() {
                            return Err(NamespaceError::WrongType {
                                index,
                                typ: typ_s,
                                path: path.clone(),
                            });
                        }
                    }
                    plan.join.push(Join { typ, fd });
                }
            }
        }
        plan.join.sort_by_key(|j| join_rank(j.typ));
        Ok(plan)
    }

    pub fn creates(&self, typ: LinuxNamespaceType) -> bool {
        self.new.contains(clone_flag(typ))
    }

    pub fn joins(&self, typ: LinuxNamespaceType) -> bool {
        self.join.iter().any(|j| j.typ == typ)
    }

    /// Whether the spec mentions the type at all (new or joined).
    pub fn has(&self, typ: LinuxNamespaceType) -> bool {
        self.creates(typ) || self.joins(typ)
    }
}

/// Join order: the user namespace first (it grants the capabilities for the rest), the mount
/// namespace last (it changes how later paths resolve).
fn join_rank(typ: LinuxNamespaceType) -> u8 {
    match typ {
        LinuxNamespaceType::User => 0,
        LinuxNamespaceType::Mount => 9,
        _ => 5,
    }
}

trait CloexecOpen {
    fn custom_flags_cloexec(&mut self) -> &mut Self;
}
impl CloexecOpen for std::fs::OpenOptions {
    fn custom_flags_cloexec(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_CLOEXEC)
    }
}

/// NS_GET_NSTYPE on a namespace fd; None when the kernel or the file cannot tell.
fn ns_type_of(fd: &OwnedFd) -> Option<i32> {
    use std::os::fd::AsRawFd;
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703; // _IO(0xb7, 0x3)
                                                 // SAFETY: NS_GET_NSTYPE takes no argument and only reads the fd's inode; the fd is open.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE as _) };
    (rc > 0).then_some(rc)
}

/// setns(2) into one namespace.
pub fn join(j: &Join) -> Result<(), SysError> {
    nix::sched::setns(j.fd.as_fd(), clone_flag(j.typ)).ctx("setns", proc_name(j.typ))
}

pub fn unshare(flags: CloneFlags) -> Result<(), SysError> {
    nix::sched::unshare(flags).ctx("unshare", format!("{flags:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(typ: LinuxNamespaceType, path: Option<&str>) -> LinuxNamespace {
        let mut n = LinuxNamespace::default();
        n.set_typ(typ);
        n.set_path(path.map(PathBuf::from));
        n
    }

    #[test]
    fn plan_orders_joins_user_first_mount_last() {
        let p = Plan::from_spec(&[
            ns(LinuxNamespaceType::Mount, Some("/proc/self/ns/mnt")),
            ns(LinuxNamespaceType::Network, Some("/proc/self/ns/net")),
            ns(LinuxNamespaceType::User, Some("/proc/self/ns/user")),
            ns(LinuxNamespaceType::Pid, None),
        ])
        .unwrap();
        let order: Vec<_> = p.join.iter().map(|j| j.typ).collect();
        assert_eq!(
            order,
            vec![
                LinuxNamespaceType::User,
                LinuxNamespaceType::Network,
                LinuxNamespaceType::Mount
            ]
        );
        assert!(p.creates(LinuxNamespaceType::Pid) && !p.creates(LinuxNamespaceType::Network));
    }

    #[test]
    fn bad_paths_are_reported_with_index() {
        let e = Plan::from_spec(&[ns(LinuxNamespaceType::Network, Some("/nonexistent/ns"))])
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("linux.namespaces[0] (net): open `/nonexistent/ns`"),
            "{e}"
        );
        let e = Plan::from_spec(&[ns(LinuxNamespaceType::Network, Some("/proc/self/ns/uts"))])
            .unwrap_err();
        assert!(matches!(e, NamespaceError::WrongType { .. }), "{e}");
    }
}
