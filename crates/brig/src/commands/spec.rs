//! `brig spec [--bundle B] [--rootless]`: write runc's default config.json (and its rootless
//! variant) into the bundle.

use serde_json::{json, Value};
use std::path::PathBuf;

use super::Outcome;
use crate::Ctx;

const DEFAULT: &str = include_str!("default-config.json");

/// Write a default config.json
#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,
}

/// `--rootless` (a global flag, as in runc) asks for the rootless variant.
pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    let path = args.bundle.join("config.json");
    if path.exists() {
        return Err(format!(
            "spec: file `{}` exists: remove it first",
            path.display()
        ));
    }
    let mut spec: Value = serde_json::from_str(DEFAULT).map_err(|e| e.to_string())?;
    if ctx.rootless {
        to_rootless(
            &mut spec,
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        );
    }
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&spec, &mut ser).map_err(|e| e.to_string())?;
    std::fs::write(&path, out).map_err(|e| format!("spec: write `{}`: {e}", path.display()))?;
    Ok(0)
}

/// runc's rootless changes: a user namespace mapping us to root, no network namespace, no
/// cgroup limits, sysfs bound from the host, no `gid=5` on devpts.
fn to_rootless(spec: &mut Value, uid: u32, gid: u32) {
    let linux = &mut spec["linux"];
    if let Some(ns) = linux["namespaces"].as_array_mut() {
        ns.retain(|n| n["type"] != "network" && n["type"] != "user");
        ns.push(json!({"type": "user"}));
    }
    linux["uidMappings"] = json!([{"containerID": 0, "hostID": uid, "size": 1}]);
    linux["gidMappings"] = json!([{"containerID": 0, "hostID": gid, "size": 1}]);
    if let Some(obj) = linux.as_object_mut() {
        obj.remove("resources");
    }
    if let Some(mounts) = spec["mounts"].as_array_mut() {
        mounts.retain(|m| m["type"] != "cgroup");
        for m in mounts.iter_mut() {
            if m["type"] == "sysfs" {
                *m = json!({"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
            }
            if let Some(opts) = m["options"].as_array_mut() {
                opts.retain(|o| o != "gid=5");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_parses_as_a_spec_and_rootless_adds_userns() {
        let mut v: Value = serde_json::from_str(DEFAULT).unwrap();
        assert_eq!(v["process"]["args"][0], "sh");
        to_rootless(&mut v, 1000, 1000);
        assert!(v["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["type"] == "user"));
        assert!(!v["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["type"] == "network"));
        assert_eq!(v["linux"]["uidMappings"][0]["hostID"], 1000);
    }
}
