//! The in-container checker: reads the config.json it was given and checks every field it can
//! observe from inside, printing TAP (`ok N - <check-id>`).
//!
//! Inputs, both copied into the rootfs by the runner:
//! - `/conformance/config.json`: the bundle's config, exactly as the runtime got it;
//! - `/conformance/expect.json`: what only the host knows (its namespace inodes, the inodes of
//!   namespaces to join, preserved fd count, bind-mount markers, device cgroup verdicts) and the
//!   `focus` list of areas to check (all areas when absent).
//!
//! `conformance-checker --syscall NAME [ARG]` is the helper mode: it makes one system call and
//! exits 0 on success or 100+errno, so the parent can observe seccomp kill/trap actions;
//! `--euid` exits 0 when it runs as euid 0 (run from a setuid-root copy: the NNP probe).

mod cgroups;
mod linux;
mod mounts;
mod process;

use brig_conformance::tap::Tap;
use serde_json::Value;
use std::fs;

/// What the checker works from.
pub struct Ctx {
    pub cfg: Value,
    pub expect: Value,
}

impl Ctx {
    /// Whether `area` is to be checked for this case.
    fn wants(&self, area: &str) -> bool {
        match self.expect.get("focus").and_then(Value::as_array) {
            Some(list) => list.iter().any(|a| a.as_str() == Some(area)),
            None => true,
        }
    }
}

/// One area's check function.
type Area = fn(&Ctx, &mut Tap);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--syscall") {
        std::process::exit(linux::syscall_helper(&args[2..]));
    }
    if args.get(1).map(String::as_str) == Some("--euid") {
        // Helper mode for the setuid probe: exit 0 when running with euid 0.
        let euid = brig_conformance::procfs::status_field("self", "Uid").and_then(|u| u.split_whitespace().nth(1).map(str::to_string));
        std::process::exit(if euid.as_deref() == Some("0") { 0 } else { 1 });
    }
    let mut t = Tap::new();
    let cfg_path = std::env::var("CONFORMANCE_CONFIG").unwrap_or_else(|_| "/conformance/config.json".into());
    let cfg = match fs::read_to_string(&cfg_path).map_err(|e| e.to_string()).and_then(|s| serde_json::from_str::<Value>(&s).map_err(|e| e.to_string())) {
        Ok(v) => v,
        Err(e) => {
            t.fail("checker.config-readable", format!("{cfg_path}: {e}"));
            t.plan();
            std::process::exit(1);
        }
    };
    let expect = fs::read_to_string("/conformance/expect.json").ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null);
    let ctx = Ctx { cfg, expect };
    t.pass("checker.started");

    let areas: &[(&str, Area)] = &[
        ("process", process::check_process),
        ("user", process::check_user),
        ("caps", process::check_caps),
        ("rlimits", process::check_rlimits),
        ("root", mounts::check_root),
        ("hostname", linux::check_hostname),
        ("mounts", mounts::check_mounts),
        ("mounts", mounts::check_expected_mounts),
        ("propagation", mounts::check_rootfs_propagation),
        ("namespaces", linux::check_namespaces),
        ("idmap", linux::check_idmap),
        ("devices", linux::check_devices),
        ("default-devices", linux::check_default_devices),
        ("sysctl", linux::check_sysctl),
        ("masked", mounts::check_masked),
        ("readonly", mounts::check_readonly),
        ("seccomp", linux::check_seccomp),
        ("personality", linux::check_personality),
        ("cgroups", cgroups::check_cgroups),
        ("devcgroup", cgroups::check_device_access),
        ("fds", process::check_fds),
    ];
    for (area, f) in areas {
        if ctx.wants(area) {
            f(&ctx, &mut t);
        }
    }
    t.plan();
}
