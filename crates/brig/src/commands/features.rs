//! `brig features`: the runtime-spec features document (features.md). Every `true` in it is
//! something brig does; what it lacks says false.

use serde_json::json;

use super::Outcome;
use crate::Ctx;

/// Show what this runtime supports, as JSON
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_ctx: &Ctx, _args: Args) -> Outcome {
    let doc = json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": libcontainer::state::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": libcontainer::rootfs::mount::known_options(),
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
            "capabilities": libcontainer::capabilities::known(),
            "cgroup": libcontainer::cgroups::features(),
            "seccomp": libcontainer::seccomp::features(),
            "apparmor": {"enabled": std::fs::read_to_string("/sys/module/apparmor/parameters/enabled").map(|s| s.trim() == "Y").unwrap_or(false)},
            "selinux": {"enabled": false},
            "intelRdt": {"enabled": false},
            "mountExtensions": {"idmap": {"enabled": false}},
            "memoryPolicy": {"modes": [], "flags": []},
            "netDevices": {"enabled": false}
        },
        "annotations": {
            "org.opencontainers.runc.checkpoint.enabled": "false",
            "run.brig.version": env!("CARGO_PKG_VERSION")
        }
    });
    let out = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    println!("{out}");
    Ok(0)
}
