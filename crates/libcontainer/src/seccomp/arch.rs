//! Syscall ABIs a brig seccomp filter can judge: their audit arch value, number range and name table.

use oci_spec::runtime::Arch;

use super::tables;

/// `AUDIT_ARCH_X86_64`: `seccomp_data.arch` for both the x86_64 and the x32 ABI.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_I386`: `seccomp_data.arch` for `int 0x80` and 32-bit x86 processes.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// `AUDIT_ARCH_AARCH64`.
pub const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;
/// x32 syscalls carry this bit in their number; it is how the kernel tells them from x86_64 ones.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// One syscall ABI, with its own number table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Abi {
    /// x86_64, 64-bit arguments.
    X86_64,
    /// i386, 32-bit arguments.
    X86,
    /// x32: x86_64 registers, 32-bit ABI; libseccomp compares only the low 32 bits of its arguments.
    X32,
    /// aarch64, 64-bit arguments.
    Aarch64,
}

impl Abi {
    /// Every ABI brig has a table for.
    pub const ALL: [Abi; 4] = [Abi::X86_64, Abi::X86, Abi::X32, Abi::Aarch64];

    /// The ABI of the machine brig was built for; `None` on an architecture brig has no table for.
    pub const fn native() -> Option<Abi> {
        if cfg!(target_arch = "x86_64") {
            Some(Abi::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Abi::Aarch64)
        } else if cfg!(target_arch = "x86") {
            Some(Abi::X86)
        } else {
            None
        }
    }

    /// The ABI an OCI `SCMP_ARCH_*` names, if brig has a table for it.
    pub fn from_oci(arch: Arch) -> Option<Abi> {
        match arch {
            Arch::ScmpArchNative => Abi::native(),
            Arch::ScmpArchX86_64 => Some(Abi::X86_64),
            Arch::ScmpArchX86 => Some(Abi::X86),
            Arch::ScmpArchX32 => Some(Abi::X32),
            Arch::ScmpArchAarch64 => Some(Abi::Aarch64),
            _ => None,
        }
    }

    /// The OCI name of this ABI.
    pub fn oci(self) -> Arch {
        match self {
            Abi::X86_64 => Arch::ScmpArchX86_64,
            Abi::X86 => Arch::ScmpArchX86,
            Abi::X32 => Arch::ScmpArchX32,
            Abi::Aarch64 => Arch::ScmpArchAarch64,
        }
    }

    /// The value the kernel puts in `seccomp_data.arch` for a syscall made through this ABI.
    pub const fn audit_arch(self) -> u32 {
        match self {
            Abi::X86_64 | Abi::X32 => AUDIT_ARCH_X86_64,
            Abi::X86 => AUDIT_ARCH_I386,
            Abi::Aarch64 => AUDIT_ARCH_AARCH64,
        }
    }

    /// The `seccomp_data.nr` values (inclusive) that belong to this ABI under its audit arch.
    pub const fn nr_range(self) -> (u32, u32) {
        match self {
            Abi::X86_64 => (0, X32_SYSCALL_BIT - 1),
            Abi::X32 => (X32_SYSCALL_BIT, u32::MAX),
            Abi::X86 | Abi::Aarch64 => (0, u32::MAX),
        }
    }

    /// Whether arguments are compared on 64 bits (both halves, as libseccomp does) or only on the low 32.
    pub const fn args_64bit(self) -> bool {
        matches!(self, Abi::X86_64 | Abi::Aarch64)
    }

    /// The syscall table, sorted by name.
    pub fn table(self) -> &'static [(&'static str, u32)] {
        match self {
            Abi::X86_64 => tables::X86_64,
            Abi::X86 => tables::X86,
            Abi::X32 => tables::X32,
            Abi::Aarch64 => tables::AARCH64,
        }
    }

    /// The number of syscall `name` in this ABI, as seen in `seccomp_data.nr`.
    pub fn resolve(self, name: &str) -> Option<u32> {
        let table = self.table();
        table
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| table[i].1)
    }
}

/// i386 `socketcall(2)` call numbers (`SYS_SOCKET`...), from <linux/net.h>.
const X86_SOCKETCALL: [(&str, u64); 20] = [
    ("socket", 1),
    ("bind", 2),
    ("connect", 3),
    ("listen", 4),
    ("accept", 5),
    ("getsockname", 6),
    ("getpeername", 7),
    ("socketpair", 8),
    ("send", 9),
    ("recv", 10),
    ("sendto", 11),
    ("recvfrom", 12),
    ("shutdown", 13),
    ("setsockopt", 14),
    ("getsockopt", 15),
    ("sendmsg", 16),
    ("recvmsg", 17),
    ("accept4", 18),
    ("recvmmsg", 19),
    ("sendmmsg", 20),
];

/// i386 `ipc(2)` call numbers (`SHMGET`...), from <linux/ipc.h>.
const X86_IPC: [(&str, u64); 12] = [
    ("semop", 1),
    ("semget", 2),
    ("semctl", 3),
    ("semtimedop", 4),
    ("msgsnd", 11),
    ("msgrcv", 12),
    ("msgget", 13),
    ("msgctl", 14),
    ("shmat", 21),
    ("shmdt", 22),
    ("shmget", 23),
    ("shmctl", 24),
];

impl Abi {
    /// For i386 socket and SysV IPC syscalls: the multiplexer's number (`socketcall`, `ipc`) and the call
    /// number it takes as its first argument. libseccomp adds a rule on the multiplexer next to the direct
    /// one (the first argument checks the call number; the other checks stay on the same index, although
    /// the real arguments sit behind a pointer), so a program cannot get round a rule by using the old
    /// entry point; brig does the same. `accept`, `send`, `recv`,
    /// `semop` and `semtimedop` exist on i386 only through the multiplexer.
    pub fn multiplexed(self, name: &str) -> Option<(u32, u64)> {
        if self != Abi::X86 {
            return None;
        }
        let find = |table: &[(&str, u64)], mux: &str| {
            table
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, call)| (self.resolve(mux).expect("i386 multiplexer"), *call))
        };
        find(&X86_SOCKETCALL, "socketcall").or_else(|| find(&X86_IPC, "ipc"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        for abi in Abi::ALL {
            let t = abi.table();
            assert!(
                t.windows(2).all(|w| w[0].0 < w[1].0),
                "{abi:?} names not sorted"
            );
            let mut nrs: Vec<u32> = t.iter().map(|e| e.1).collect();
            nrs.sort_unstable();
            nrs.dedup();
            assert_eq!(nrs.len(), t.len(), "{abi:?} has duplicate numbers");
            let (lo, hi) = abi.nr_range();
            assert!(
                t.iter().all(|e| e.1 >= lo && e.1 <= hi),
                "{abi:?} number out of range"
            );
        }
    }

    #[test]
    fn known_numbers() {
        let cases = [
            (Abi::X86_64, "read", 0),
            (Abi::X86_64, "setns", 308),
            (Abi::X86_64, "clone3", 435),
            (Abi::X86_64, "mseal", 462),
            (Abi::X86_64, "listns", 470),
            (Abi::X86_64, "uretprobe", 335),
            (Abi::X86, "_llseek", 140),
            (Abi::X86, "socketcall", 102),
            (Abi::X86, "socket", 359),
            (Abi::X86, "clone3", 435),
            (Abi::X32, "write", X32_SYSCALL_BIT | 1),
            (Abi::X32, "rt_sigaction", X32_SYSCALL_BIT | 512),
            (Abi::X32, "listns", X32_SYSCALL_BIT | 470),
            (Abi::Aarch64, "newfstatat", 79),
            (Abi::Aarch64, "fstat", 80),
            (Abi::Aarch64, "mmap", 222),
            (Abi::Aarch64, "clone3", 435),
            (Abi::Aarch64, "listns", 470),
        ];
        for (abi, name, nr) in cases {
            assert_eq!(abi.resolve(name), Some(nr), "{abi:?} {name}");
        }
        assert_eq!(Abi::X86_64.resolve("_llseek"), None);
        assert_eq!(Abi::Aarch64.resolve("open"), None);
        assert_eq!(Abi::X32.resolve("uselib"), None);
        assert_eq!(Abi::X86.multiplexed("socket"), Some((102, 1)));
        assert_eq!(Abi::X86.multiplexed("shmget"), Some((117, 23)));
        assert_eq!(Abi::X86.multiplexed("accept"), Some((102, 5)));
        assert_eq!(Abi::X86.resolve("accept"), None);
        assert_eq!(Abi::X86_64.multiplexed("socket"), None);
    }
}
