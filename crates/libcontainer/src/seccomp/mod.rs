//! Seccomp: compiles `linux.seccomp` into a BPF filter (pure Rust, no libseccomp) and installs it in the init.
//!
//! Use: [`compile`] in the runtime before the init is cloned; [`CompiledFilter::install`] in the init just
//! before execve; when it returns a notify fd, hand it to the agent with [`connect_listener`] and
//! [`send_to_listener`] (body from [`process_state_json`]). [`features`] fills `brig features`.
//! The semantics follow runc 1.1 with libseccomp 2.5; see `NOTES.md` next to this file for the details,
//! the known differences and the measured filter sizes.

mod arch;
mod bpf;
mod compile;
#[cfg(test)]
mod interp;
mod kernel;
mod tables;
// The verdict tests use x86_64 numbers, runc's x86_64 filters and real x86_64 syscalls.
#[cfg(all(test, target_arch = "x86_64"))]
mod tests;

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, Seccomp};

pub use arch::Abi;

/// Errors of this module. Those that come from the profile name the JSON field.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("{field}: {arch} is not supported (brig knows SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 and SCMP_ARCH_AARCH64)")]
    UnsupportedArch { field: String, arch: String },
    #[error("linux.seccomp: brig has no syscall table for this machine's architecture ({0})")]
    UnsupportedHost(&'static str),
    #[error("{field}: argument index {index} is out of range (a syscall has arguments 0 to 5)")]
    ArgIndex { field: String, index: usize },
    #[error("{field}: {value} does not fit in the 16 data bits of a seccomp return value")]
    RetData { field: String, value: u32 },
    #[error("{field}: empty syscall name")]
    EmptyName { field: String },
    #[error("{field}: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath")]
    NotifyWithoutListener { field: String },
    #[error("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action")]
    NotifyDefault,
    #[error("{field}: SCMP_ACT_NOTIFY cannot be used for the write syscall")]
    NotifyWrite { field: String },
    #[error("{field}: {flag} is not supported by this kernel")]
    FlagUnsupported { field: String, flag: String },
    #[error(
        "linux.seccomp: the filter needs {0} BPF instructions, the kernel accepts at most 4096"
    )]
    TooLarge(usize),
    #[error("seccomp(SECCOMP_SET_MODE_FILTER, flags {})", kernel::flag_names(*.flags))]
    Install {
        flags: libc::c_ulong,
        #[source]
        source: nix::Error,
    },
    #[error("connect to linux.seccomp.listenerPath `{}`", .path.display())]
    Connect {
        path: PathBuf,
        #[source]
        source: nix::Error,
    },
    #[error("send the seccomp notify fd to the listener")]
    Send {
        #[source]
        source: nix::Error,
    },
}

/// A seccomp filter ready to load: the BPF program and the seccomp(2) flags.
#[derive(Clone)]
pub struct CompiledFilter {
    program: Vec<libc::sock_filter>,
    /// Flags from the profile (LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV), without NEW_LISTENER.
    flags: libc::c_ulong,
    listener: bool,
}

impl std::fmt::Debug for CompiledFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledFilter")
            .field("instructions", &self.program.len())
            .field("flags", &kernel::flag_names(self.flags))
            .field("listener", &self.listener)
            .finish()
    }
}

/// Compiles `linux.seccomp`. Call it in the runtime, before the init is cloned.
///
/// Checks every field (errors name it), probes the kernel for the profile's `flags`, and never fails on a
/// syscall name it does not know (skipped, logged at debug level, as runc does).
pub fn compile(seccomp: &LinuxSeccomp) -> Result<CompiledFilter, SeccompError> {
    let plan = compile::plan(seccomp)?;
    let program = compile::generate(&plan)?;
    Ok(CompiledFilter {
        program,
        flags: plan.flags,
        listener: plan.listener,
    })
}

impl CompiledFilter {
    /// Loads the filter into the calling thread with seccomp(2), adding SECCOMP_FILTER_FLAG_NEW_LISTENER when
    /// a rule uses SCMP_ACT_NOTIFY; returns that notify fd. Call it in the init, just before execve: the
    /// thread needs no_new_privs or CAP_SYS_ADMIN. It does not allocate unless it fails.
    pub fn install(&self) -> Result<Option<OwnedFd>, SeccompError> {
        let mut flags = self.flags;
        if self.listener {
            flags |= libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
        }
        kernel::load(&self.program, flags)
    }

    /// Whether `install` returns a notify fd that must go to `linux.seccomp.listenerPath`.
    pub fn needs_listener(&self) -> bool {
        self.listener
    }

    /// Program length in BPF instructions.
    pub fn instructions(&self) -> usize {
        self.program.len()
    }

    /// The BPF program, for debugging (e.g. comparing with another runtime's filter).
    pub fn program(&self) -> &[libc::sock_filter] {
        &self.program
    }

    /// The seccomp(2) flags `install` uses, without NEW_LISTENER.
    pub fn flags(&self) -> libc::c_ulong {
        self.flags
    }
}

/// Connects a unix stream socket to the seccomp agent at `listener_path` (`linux.seccomp.listenerPath`).
pub fn connect_listener(listener_path: &Path) -> Result<OwnedFd, SeccompError> {
    kernel::connect(listener_path)
}

/// Sends the notify fd to the seccomp agent over the connected socket `sock`, as runc does: one message
/// whose body is the runtime-spec container process state (see [`process_state_json`]) and which carries
/// `notify_fd` with SCM_RIGHTS. Short writes are continued without the fd.
pub fn send_to_listener(
    sock: BorrowedFd,
    notify_fd: BorrowedFd,
    process_state_json: &[u8],
) -> Result<(), SeccompError> {
    kernel::send_with_fd(sock, notify_fd, process_state_json)
}

/// The runtime-spec "container process state" sent to the agent: `ociVersion`, `fds: ["seccompFd"]`,
/// `pid`, `metadata` (`linux.seccomp.listenerMetadata`) and the container `state`.
pub fn process_state_json(
    state: &oci_spec::runtime::State,
    pid: i32,
    metadata: Option<&str>,
) -> Vec<u8> {
    let mut s = oci_spec::runtime::ContainerProcessState::default();
    s.set_version(state.version().clone());
    s.set_fds(vec![oci_spec::runtime::SECCOMP_FD_NAME.to_string()]);
    s.set_pid(pid);
    s.set_metadata(metadata.map(str::to_string));
    s.set_state(state.clone());
    serde_json::to_vec(&s).expect("the process state serializes")
}

/// The `linux.seccomp` part of `brig features`: what brig recognises, and the flags this kernel supports.
pub fn features() -> Seccomp {
    use LinuxSeccompAction as A;
    let mut f = Seccomp::default();
    f.set_enabled(Some(true));
    f.set_actions(Some(vec![
        A::ScmpActAllow,
        A::ScmpActErrno,
        A::ScmpActKill,
        A::ScmpActKillProcess,
        A::ScmpActKillThread,
        A::ScmpActLog,
        A::ScmpActNotify,
        A::ScmpActTrace,
        A::ScmpActTrap,
    ]));
    f.set_operators(Some(
        [
            "SCMP_CMP_EQ",
            "SCMP_CMP_GE",
            "SCMP_CMP_GT",
            "SCMP_CMP_LE",
            "SCMP_CMP_LT",
            "SCMP_CMP_MASKED_EQ",
            "SCMP_CMP_NE",
        ]
        .map(String::from)
        .to_vec(),
    ));
    f.set_archs(Some(Abi::ALL.iter().map(|a| a.oci()).collect()));
    f.set_known_flags(Some(
        kernel::KNOWN_FLAGS
            .iter()
            .map(|(n, _)| n.to_string())
            .collect(),
    ));
    f.set_supported_flags(Some(
        kernel::KNOWN_FLAGS
            .iter()
            .filter(|(_, bit)| kernel::flag_supported(*bit))
            .map(|(n, _)| n.to_string())
            .collect(),
    ));
    f
}

/// Whether the running kernel implements seccomp return action `action` (e.g. `SECCOMP_RET_USER_NOTIF`).
pub fn action_available(action: LinuxSeccompAction) -> bool {
    kernel::action_available(action.as_u32(Some(0)) & libc::SECCOMP_RET_ACTION_FULL)
}
