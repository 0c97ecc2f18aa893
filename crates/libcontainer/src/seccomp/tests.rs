//! Tests of the seccomp compiler: verdicts through the BPF interpreter, and real filters in forked children.

use super::interp::{run, Data};
use super::*;

fn profile(json: &str) -> LinuxSeccomp {
    serde_json::from_str(json).expect("test profile parses")
}

#[test]
fn smoke() {
    let f = compile(&profile(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#)).unwrap();
    assert_eq!(run(f.program(), &Data::new(arch::AUDIT_ARCH_X86_64, 83, &[])), 0x50000 | 13);
    assert_eq!(run(f.program(), &Data::new(arch::AUDIT_ARCH_X86_64, 84, &[])), 0x7fff0000);
}
