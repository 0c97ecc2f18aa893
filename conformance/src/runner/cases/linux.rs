//! Config cases for `linux` (config-linux.md): namespaces new and joined, user namespace
//! mappings, devices and the device cgroup, sysctl, seccomp, resources, personality, fds.

use super::{arr, checker, def, run_checker, set, Def};
use crate::harness::{Case, Io};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;

const NS_TYPES: [(&str, &str, &str); 6] =
    [("pid", "pid", "--pid"), ("network", "net", "--net"), ("ipc", "ipc", "--ipc"), ("uts", "uts", "--uts"), ("cgroup", "cgroup", "--cgroup"), ("time", "time", "--time")];
const NS_PROC_TYPES: [(&str, &str); 6] = [("pid", "pid"), ("net", "network"), ("ipc", "ipc"), ("uts", "uts"), ("cgroup", "cgroup"), ("time", "time")];

/// Starts a process holding a new namespace of one type and returns the /proc path of it.
fn ns_holder(c: &mut Case, flag: &str, proc_name: &str) -> Option<String> {
    let mut cmd = Command::new("unshare");
    cmd.arg(flag);
    // pid and time namespaces apply to the children of the unsharing process.
    let fork = flag == "--pid" || flag == "--time";
    if fork {
        cmd.arg("--fork");
    }
    cmd.args([c.host.busybox.to_str().unwrap_or("/bin/busybox"), "sleep", "600"]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let child = cmd.spawn().ok()?;
    let pid = child.id() as i32;
    c.holders.push(child);
    // With --fork the namespace's first process is unshare's child.
    for _ in 0..200 {
        let target = if fork { crate::harness::children_of(pid).first().copied() } else { Some(pid) };
        if let Some(t) = target {
            let p = format!("/proc/{t}/ns/{proc_name}");
            let host = c.host.host_ns[proc_name].as_str().map(str::to_string);
            if let Ok(l) = std::fs::read_link(&p) {
                let l = l.display().to_string();
                if Some(&l) != host.as_ref() {
                    set(&mut c.expect, &format!("joined_ns/{}", ns_type_of(proc_name)), json!(l));
                    return Some(p);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

fn ns_type_of(proc_name: &str) -> &'static str {
    NS_PROC_TYPES.iter().find(|(p, _)| *p == proc_name).map(|(_, t)| *t).unwrap_or("?")
}

fn user_maps(c: &mut Case) {
    let l = &mut c.cfg["linux"];
    l["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    l["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    arr(&mut c.cfg, "linux/namespaces").push(json!({"type": "user"}));
    // A cgroup v1 mount needs the host's user namespace; leave it out.
    arr(&mut c.cfg, "mounts").retain(|m| m["type"] != "cgroup");
}

fn device(c: &mut Case, d: Value) {
    arr(&mut c.cfg, "linux/devices").push(d);
}

fn seccomp(c: &mut Case, rules: Value) {
    c.cfg["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": rules});
}

/// Reads a file of this case's cgroup from the host side, in the first hierarchy that has it.
fn host_cgroup_file(c: &Case, file: &str) -> Option<String> {
    c.cgroup_dirs().iter().find_map(|d| std::fs::read_to_string(d.join(file)).ok()).map(|s| s.trim().to_string())
}

/// A resources case: the checker reads the limits inside; after create the runner reads
/// the same files from the host and checks the init process sits in the cgroup.
fn resources(id: &str, res: Value, host_files: &'static [(&'static str, &'static str)]) -> Def {
    def(id, move |c: &mut Case| {
        c.expect["focus"] = json!(["cgroups"]);
        let mut r = res.clone();
        r["devices"] = json!([{"allow": false, "access": "rwm"}]);
        c.cfg["linux"]["resources"] = r;
        run_checker(c, Io::default(), |c, pid| {
            for (file, want) in host_files {
                match host_cgroup_file(c, file) {
                    // Multi-line files (memory.oom_control) need only hold the wanted line.
                    Some(got) => c.tap.check(format!("host.{file}"), got.lines().any(|l| l == *want), || format!("got {got:?}, want a line {want:?}")),
                    None if c.host.cgroup_v2_only => c.tap.skip(format!("host.{file}"), "cgroup v1 file on a cgroup v2 host"),
                    None => c.tap.fail(format!("host.{file}"), "no such file in the case's cgroups"),
                }
            }
            let procs = c.cgroup_pids();
            c.tap.check("host.init-in-cgroup", procs.contains(&pid), || format!("pid {pid} not in {procs:?}"));
        });
    })
}

pub fn cases() -> Vec<Def> {
    let mut v = vec![
        // Only a mount namespace: every other namespace is the runtime's own.
        checker("ns-only-mount", &["namespaces"], |c| {
            c.cfg["linux"]["namespaces"] = json!([{"type": "mount"}]);
            c.cfg.as_object_mut().map(|o| o.remove("hostname"));
            arr(&mut c.cfg, "mounts").retain(|m| m["type"] != "sysfs" && m["type"] != "cgroup" && m["type"] != "mqueue");
        }),
        checker("ns-all-new", &["namespaces"], |c| arr(&mut c.cfg, "linux/namespaces").push(json!({"type": "cgroup"}))),
    ];
    for (ty, proc_name, flag) in NS_TYPES {
        v.push(checker(format!("ns-new-{ty}"), &["namespaces"], move |c| {
            let mut list = vec![json!({"type": "mount"})];
            if ty != "mount" {
                list.push(json!({"type": ty}));
            }
            c.cfg["linux"]["namespaces"] = json!(list);
            if ty != "uts" {
                c.cfg.as_object_mut().map(|o| o.remove("hostname"));
            }
            if ty != "network" {
                arr(&mut c.cfg, "mounts").retain(|m| m["type"] != "sysfs" && m["type"] != "cgroup");
            }
            if ty != "ipc" {
                arr(&mut c.cfg, "mounts").retain(|m| m["type"] != "mqueue");
            }
        }));
        v.push(checker(format!("ns-join-{ty}"), &["namespaces"], move |c| {
            let path = ns_holder(c, flag, proc_name);
            if ty == "time" {
                // Like ns-new-time: only a mount namespace besides it.
                c.cfg["linux"]["namespaces"] = json!([{"type": "mount"}]);
                c.cfg.as_object_mut().map(|o| o.remove("hostname"));
                arr(&mut c.cfg, "mounts").retain(|m| !["sysfs", "cgroup", "mqueue"].contains(&m["type"].as_str().unwrap_or("")));
            }
            let list = arr(&mut c.cfg, "linux/namespaces");
            list.retain(|n| n["type"] != ty);
            match path {
                Some(p) => list.push(json!({"type": ty, "path": p})),
                None => c.tap.fail("holder", format!("cannot start `unshare {flag}`")),
            }
            if ty == "uts" {
                c.cfg.as_object_mut().map(|o| o.remove("hostname"));
            }
        }));
    }
    v.extend([
        checker("userns-root", &["namespaces", "idmap", "user"], user_maps),
        checker("userns-nonroot", &["namespaces", "idmap", "user", "caps"], |c| {
            user_maps(c);
            c.cfg["process"]["user"] = json!({"uid": 1000, "gid": 1000});
        }),
        checker("userns-split-maps", &["idmap"], |c| {
            user_maps(c);
            c.cfg["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 200000, "size": 1000}, {"containerID": 1000, "hostID": 201000, "size": 64536}]);
            c.cfg["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
        }),
        checker("userns-devices", &["devices", "default-devices"], |c| {
            user_maps(c);
            // In a user namespace runtimes bind-mount the host's node at the same path: use one
            // the host has and no default device shadows.
            device(c, json!({"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}));
        }),
        checker("devices-default", &["default-devices"], |_| {}),
        checker("devices-char", &["devices"], |c| device(c, json!({"path": "/dev/conf-char", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666, "uid": 0, "gid": 0}))),
        checker("devices-block", &["devices"], |c| device(c, json!({"path": "/dev/conf-block", "type": "b", "major": 7, "minor": 200, "fileMode": 0o660, "uid": 0, "gid": 6}))),
        checker("devices-fifo", &["devices"], |c| device(c, json!({"path": "/dev/conf-fifo", "type": "p", "fileMode": 0o620}))),
        checker("devices-unbuffered", &["devices"], |c| device(c, json!({"path": "/dev/conf-u", "type": "u", "major": 1, "minor": 5}))),
        checker("devices-owner-mode", &["devices"], |c| device(c, json!({"path": "/dev/conf-owned", "type": "c", "major": 1, "minor": 7, "fileMode": 0o600, "uid": 1000, "gid": 1001}))),
        checker("devices-nested-path", &["devices"], |c| device(c, json!({"path": "/dev/conf/deep/node", "type": "c", "major": 1, "minor": 9, "fileMode": 0o640}))),
        checker("devices-no-mode", &["devices"], |c| device(c, json!({"path": "/dev/conf-nomode", "type": "c", "major": 1, "minor": 8}))),
        checker("devcgroup-deny", &["devcgroup"], |c| {
            device(c, json!({"path": "/dev/conf-42", "type": "c", "major": 42, "minor": 42, "fileMode": 0o666}));
            c.expect["dev_access"] = json!({"/dev/conf-42": "denied"});
        }),
        checker("devcgroup-allow", &["devcgroup"], |c| {
            device(c, json!({"path": "/dev/conf-42", "type": "c", "major": 42, "minor": 42, "fileMode": 0o666}));
            arr(&mut c.cfg, "linux/resources/devices").push(json!({"allow": true, "type": "c", "major": 42, "minor": 42, "access": "rwm"}));
            c.expect["dev_access"] = json!({"/dev/conf-42": "allowed"});
        }),
        checker("devcgroup-allow-read-only", &["devcgroup"], |c| {
            device(c, json!({"path": "/dev/conf-42", "type": "c", "major": 42, "minor": 42, "fileMode": 0o666}));
            arr(&mut c.cfg, "linux/resources/devices").push(json!({"allow": true, "type": "c", "major": 42, "minor": 42, "access": "r"}));
            c.expect["dev_access"] = json!({"/dev/conf-42": "read-only"});
        }),
        checker("devcgroup-allow-wildcard-minor", &["devcgroup"], |c| {
            device(c, json!({"path": "/dev/conf-42a", "type": "c", "major": 42, "minor": 1, "fileMode": 0o666}));
            device(c, json!({"path": "/dev/conf-43", "type": "c", "major": 43, "minor": 1, "fileMode": 0o666}));
            arr(&mut c.cfg, "linux/resources/devices").push(json!({"allow": true, "type": "c", "major": 42, "access": "rwm"}));
            c.expect["dev_access"] = json!({"/dev/conf-42a": "allowed", "/dev/conf-43": "denied"});
        }),
        checker("sysctl-net", &["sysctl"], |c| {
            c.cfg["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "net.ipv4.ip_local_port_range": "20000 30000", "net.core.somaxconn": "1024"})
        }),
        checker("sysctl-ipc", &["sysctl"], |c| {
            c.cfg["linux"]["sysctl"] = json!({"kernel.msgmax": "16384", "kernel.shmmni": "2048", "fs.mqueue.queues_max": "128"})
        }),
        checker("sysctl-uts", &["sysctl", "hostname"], |c| c.cfg["linux"]["sysctl"] = json!({"kernel.domainname": "sysctl.example"})),
        checker("seccomp-none", &["seccomp"], |_| {}),
        checker("seccomp-errno", &["seccomp"], |c| seccomp(c, json!([{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]))),
        checker("seccomp-errno-default-eperm", &["seccomp"], |c| seccomp(c, json!([{"names": ["getpgrp"], "action": "SCMP_ACT_ERRNO"}]))),
        checker("seccomp-multiple-names", &["seccomp"], |c| seccomp(c, json!([{"names": ["getppid", "getsid", "getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]))),
        checker("seccomp-kill", &["seccomp"], |c| seccomp(c, json!([{"names": ["getpgrp"], "action": "SCMP_ACT_KILL"}]))),
        checker("seccomp-kill-process", &["seccomp"], |c| seccomp(c, json!([{"names": ["getsid"], "action": "SCMP_ACT_KILL_PROCESS"}]))),
        checker("seccomp-trap", &["seccomp"], |c| seccomp(c, json!([{"names": ["sched_yield"], "action": "SCMP_ACT_TRAP"}]))),
        checker("seccomp-allow-log", &["seccomp"], |c| {
            seccomp(c, json!([{"names": ["getsid"], "action": "SCMP_ACT_ALLOW"}, {"names": ["getpriority"], "action": "SCMP_ACT_LOG"}, {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]))
        }),
        checker("seccomp-args", &["seccomp"], |c| {
            seccomp(c, json!([{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22, "args": [{"index": 0, "value": 0xffff_ffffu64, "op": "SCMP_CMP_EQ"}]}]))
        }),
        checker("seccomp-with-nnp-false", &["seccomp", "process"], |c| {
            c.cfg["process"]["noNewPrivileges"] = json!(false);
            // Without no_new_privs runtimes load the filter before dropping capabilities, so the
            // runtime's own init runs under it: deny a call runtimes do not make (not getppid).
            seccomp(c, json!([{"names": ["getpgrp"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}]));
        }),
        checker("personality-linux32", &["personality"], |c| c.cfg["linux"]["personality"] = json!({"domain": "LINUX32"})),
        checker("fds-no-leak", &["fds"], |_| {}),
        def("fds-preserve-2", |c: &mut Case| {
            c.expect["focus"] = json!(["fds"]);
            c.expect["preserve_fds"] = json!(2);
            let files: Vec<std::path::PathBuf> = (3..5)
                .map(|fd| {
                    let p = c.dir.join(format!("preserved-{fd}"));
                    let _ = std::fs::write(&p, format!("preserved-fd-{fd}\n"));
                    p
                })
                .collect();
            run_checker(c, Io { extra_fds: files, ..Io::default() }, |_, _| {});
        }),
        resources("cgroup-memory", json!({"memory": {"limit": 67108864, "reservation": 33554432}}), &[("memory.limit_in_bytes", "67108864"), ("memory.soft_limit_in_bytes", "33554432")]),
        resources("cgroup-memory-swappiness", json!({"memory": {"limit": 134217728, "swappiness": 10}}), &[("memory.swappiness", "10")]),
        resources("cgroup-cpu-shares", json!({"cpu": {"shares": 512}}), &[("cpu.shares", "512")]),
        resources("cgroup-cpu-quota", json!({"cpu": {"quota": 50000, "period": 100000}}), &[("cpu.cfs_quota_us", "50000"), ("cpu.cfs_period_us", "100000")]),
        resources("cgroup-cpuset", json!({"cpu": {"cpus": "0", "mems": "0"}}), &[("cpuset.cpus", "0"), ("cpuset.mems", "0")]),
        resources("cgroup-pids", json!({"pids": {"limit": 128}}), &[("pids.max", "128")]),
        resources("cgroup-combined", json!({"memory": {"limit": 268435456}, "cpu": {"shares": 256}, "pids": {"limit": 64}}), &[("memory.limit_in_bytes", "268435456"), ("cpu.shares", "256"), ("pids.max", "64")]),
        resources("cgroup-memory-swap", json!({"memory": {"limit": 67108864, "swap": 134217728}}), &[("memory.memsw.limit_in_bytes", "134217728")]),
        resources("cgroup-memory-disable-oom-killer", json!({"memory": {"limit": 67108864, "disableOOMKiller": true}}), &[("memory.oom_control", "oom_kill_disable 1")]),
        def("cgroup-blkio-throttle", |c: &mut Case| {
            // Throttle a real block device: the first one in /sys/block (the disk under `/` on
            // most hosts; a test VM whose root is 9p/overlay has only a ramdisk), else `/`'s.
            let dev = std::fs::read_dir("/sys/block")
                .ok()
                .and_then(|rd| {
                    let mut names: Vec<_> = rd.flatten().map(|e| e.path()).collect();
                    names.sort();
                    names.into_iter().find_map(|p| std::fs::read_to_string(p.join("dev")).ok().map(|d| d.trim().to_string()))
                })
                .or_else(|| brig_conformance::procfs::mount_at(&brig_conformance::procfs::mountinfo("self"), "/").map(|m| m.dev.clone()))
                .unwrap_or_default();
            let (maj, min) = dev.split_once(':').map(|(a, b)| (a.parse::<u64>().unwrap_or(0), b.parse::<u64>().unwrap_or(0))).unwrap_or((0, 0));
            c.cfg["linux"]["resources"]["blockIO"] = json!({
                "throttleReadBpsDevice": [{"major": maj, "minor": min, "rate": 1048576}],
                "throttleWriteIOPSDevice": [{"major": maj, "minor": min, "rate": 300}]
            });
            c.expect["focus"] = json!(["cgroups"]);
            let want_r = format!("{maj}:{min} 1048576");
            let want_w = format!("{maj}:{min} 300");
            run_checker(c, Io::default(), move |c, _| {
                for (file, want) in [("blkio.throttle.read_bps_device", &want_r), ("blkio.throttle.write_iops_device", &want_w)] {
                    match host_cgroup_file(c, file) {
                        Some(got) => c.tap.eq(format!("host.{file}"), got.as_str(), want.as_str()),
                        None => c.tap.skip(format!("host.{file}"), "no blkio v1 hierarchy on this host"),
                    }
                }
            });
        }),
        checker("cgroup-namespace", &["cgroups", "namespaces"], |c| {
            arr(&mut c.cfg, "linux/namespaces").push(json!({"type": "cgroup"}));
            c.cfg["linux"]["resources"]["pids"] = json!({"limit": 99});
        }),
    ]);
    v
}
