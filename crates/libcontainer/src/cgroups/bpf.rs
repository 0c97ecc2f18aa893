//! bpf(2) for the cgroup2 device program: load, attach with BPF_F_ALLOW_MULTI, replace the old ones.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::devices::Insn;
use super::CgroupError;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The BPF_PROG_LOAD part of union bpf_attr, up to expected_attach_type.
#[repr(C)]
#[derive(Default)]
struct LoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The BPF_PROG_ATTACH / BPF_PROG_DETACH part of union bpf_attr.
#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// The BPF_PROG_QUERY part of union bpf_attr.
#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

/// The BPF_PROG_GET_FD_BY_ID part of union bpf_attr.
#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// bpf(cmd, attr, sizeof attr).
fn bpf<T>(
    cmd: libc::c_long,
    attr: &mut T,
    call: &'static str,
    what: &str,
) -> Result<libc::c_long, CgroupError> {
    // SAFETY: `attr` is a live, exclusively borrowed #[repr(C)] prefix of union bpf_attr for `cmd`, and the
    // size passed is exactly its size, so the kernel reads and writes only inside it. Every pointer stored
    // in it (insns, license, log buffer, id array) points to memory the caller keeps alive over this call.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, std::mem::size_of::<T>()) };
    if rc < 0 {
        return Err(CgroupError::Sys {
            call,
            what: what.to_string(),
            errno: nix::errno::Errno::last(),
        });
    }
    Ok(rc)
}

fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: `fd` was just returned by a successful bpf(2) call that creates a new descriptor; nothing
    // else owns it, so the OwnedFd becomes its only owner and closes it once.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// Load the program; on a verifier error the verifier's log is in the message.
fn load(insns: &[Insn]) -> Result<OwnedFd, CgroupError> {
    let license = c"Apache";
    let mut log = vec![0u8; 64 * 1024];
    let mut attr = LoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 1,
        log_size: log.len() as u32,
        log_buf: log.as_mut_ptr() as u64,
        ..Default::default()
    };
    attr.prog_name[..9].copy_from_slice(b"brig_devs");
    match bpf(
        BPF_PROG_LOAD,
        &mut attr,
        "bpf(BPF_PROG_LOAD)",
        "device program",
    ) {
        Ok(fd) => Ok(owned(fd)),
        Err(CgroupError::Sys { call, errno, .. }) => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end])
                .trim()
                .replace('\n', "; ");
            Err(CgroupError::Sys {
                call,
                what: format!("device program (verifier: {text})"),
                errno,
            })
        }
        Err(e) => Err(e),
    }
}

/// Ids of the device programs attached directly to the cgroup.
fn query(cgroup: &OwnedFd, what: &str) -> Result<Vec<u32>, CgroupError> {
    let mut ids = vec![0u32; 64];
    let mut attr = QueryAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..Default::default()
    };
    bpf(BPF_PROG_QUERY, &mut attr, "bpf(BPF_PROG_QUERY)", what)?;
    ids.truncate(attr.prog_cnt as usize);
    Ok(ids)
}

/// Attach the program built from the rules to the cgroup at `dir`, then detach the device programs that
/// were there before (attach first: the container is never without a device filter).
pub(crate) fn replace_device_program(dir: &Path, insns: &[Insn]) -> Result<(), CgroupError> {
    let what = format!("on `{}`", dir.display());
    let cgroup: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)
        .map_err(|err| CgroupError::Open {
            path: dir.to_path_buf(),
            err,
        })?
        .into();
    let old = query(&cgroup, &what)?;
    let prog = load(insns)?;
    let mut attach = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attach, "bpf(BPF_PROG_ATTACH)", &what)?;
    for id in old {
        let mut get = GetFdAttr {
            prog_id: id,
            ..Default::default()
        };
        let old_fd = match bpf(
            BPF_PROG_GET_FD_BY_ID,
            &mut get,
            "bpf(BPF_PROG_GET_FD_BY_ID)",
            &format!("id {id}"),
        ) {
            Ok(fd) => owned(fd),
            // Gone meanwhile: nothing to detach.
            Err(CgroupError::Sys {
                errno: nix::errno::Errno::ENOENT,
                ..
            }) => continue,
            Err(e) => return Err(e),
        };
        let mut detach = AttachAttr {
            target_fd: cgroup.as_raw_fd() as u32,
            attach_bpf_fd: old_fd.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            ..Default::default()
        };
        bpf(
            BPF_PROG_DETACH,
            &mut detach,
            "bpf(BPF_PROG_DETACH)",
            &format!("program id {id} {what}"),
        )?;
    }
    Ok(())
}

/// Number of device programs attached directly to `dir` (for tests).
#[cfg(test)]
pub(crate) fn attached_count(dir: &Path) -> Result<usize, CgroupError> {
    let cgroup: OwnedFd = std::fs::File::open(dir)
        .map_err(|err| CgroupError::Open {
            path: dir.to_path_buf(),
            err,
        })?
        .into();
    Ok(query(&cgroup, &format!("on `{}`", dir.display()))?.len())
}
