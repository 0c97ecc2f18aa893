//! Unit tests of the cgroup manager against a fake cgroupfs in a temp dir (v1, v2, hybrid).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use oci_spec::runtime::LinuxResources;
use serde_json::json;

use super::files::test_log;
use super::*;

/// A temp dir removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "brig-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Files a fake hierarchy root gets.
fn touch(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (f, v) in files {
        std::fs::write(dir.join(f), v).unwrap();
    }
}

const V1_HIERARCHIES: &[&str] = &[
    "cpu,cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "blkio",
    "pids",
    "net_cls,net_prio",
    "hugetlb",
];

struct Fake {
    tmp: TempDir,
    host: Host,
}

impl Fake {
    fn cg_root(&self) -> PathBuf {
        self.tmp.0.join("sys/fs/cgroup")
    }

    /// v1 hierarchies (`name=systemd` too); `own` is the caller's cgroup in every hierarchy.
    fn v1(hierarchies: &[&str], own: &str) -> Fake {
        let tmp = TempDir::new("cgfake");
        let mut mi = String::new();
        let mut sc = String::new();
        for (i, h) in hierarchies
            .iter()
            .chain(["name=systemd"].iter())
            .enumerate()
        {
            let dir = if *h == "name=systemd" { "systemd" } else { h };
            mi.push_str(&format!(
                "{} 31 0:{} / /sys/fs/cgroup/{dir} rw - cgroup cgroup rw,{h}\n",
                40 + i,
                40 + i
            ));
            sc.push_str(&format!("{}:{h}:{own}\n", i + 1));
            touch(
                &tmp.0.join("sys/fs/cgroup").join(dir),
                &[("cgroup.procs", "")],
            );
        }
        if hierarchies.contains(&"cpuset") {
            touch(
                &tmp.0.join("sys/fs/cgroup/cpuset"),
                &[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n")],
            );
        }
        sc.push_str("0::/\n");
        let host = Host {
            mountinfo: mi,
            self_cgroup: sc,
            root: tmp.0.clone(),
        };
        Fake { tmp, host }
    }

    fn v2(controllers: &str, own: &str) -> Fake {
        let tmp = TempDir::new("cgfake");
        let root = tmp.0.join("sys/fs/cgroup");
        touch(
            &root,
            &[
                ("cgroup.controllers", controllers),
                ("cgroup.subtree_control", ""),
                ("cgroup.procs", ""),
            ],
        );
        let mi = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n".to_string();
        let host = Host {
            mountinfo: mi,
            self_cgroup: format!("0::{own}\n"),
            root: tmp.0.clone(),
        };
        Fake { tmp, host }
    }

    /// This VM's layout: v1 controllers, cgroup2 at /sys/fs/cgroup/unified offering hugetlb.
    fn hybrid() -> Fake {
        let mut f = Fake::v1(
            &[
                "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids",
            ],
            "/",
        );
        f.host
            .mountinfo
            .push_str("41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
        touch(
            &f.cg_root().join("unified"),
            &[
                ("cgroup.controllers", "hugetlb\n"),
                ("cgroup.subtree_control", ""),
                ("cgroup.procs", ""),
            ],
        );
        f
    }

    fn cgroup(&self, path: Option<&str>) -> Cgroup {
        Cgroup::with_host(&self.host, path.map(Path::new), "ctr", false).unwrap()
    }
}

/// What the kernel makes on mkdir: the control files of each hierarchy of the cgroup.
fn kernel_files(cg: &Cgroup) {
    for h in &cg.v1 {
        let mut files: Vec<(&str, &str)> = vec![("cgroup.procs", ""), ("tasks", "")];
        for c in &h.controllers {
            files.extend_from_slice(match c.as_str() {
                "memory" => &[
                    ("memory.limit_in_bytes", "9223372036854771712\n"),
                    ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
                    ("memory.soft_limit_in_bytes", ""),
                    ("memory.kmem.limit_in_bytes", ""),
                    ("memory.kmem.tcp.limit_in_bytes", ""),
                    ("memory.swappiness", ""),
                    (
                        "memory.oom_control",
                        "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
                    ),
                    ("memory.use_hierarchy", "1\n"),
                    ("memory.usage_in_bytes", "4096\n"),
                    ("memory.stat", "cache 10\nrss 20\n"),
                ][..],
                "cpu" => &[
                    ("cpu.shares", "1024\n"),
                    ("cpu.cfs_period_us", ""),
                    ("cpu.cfs_quota_us", ""),
                    ("cpu.cfs_burst_us", ""),
                    ("cpu.rt_period_us", ""),
                    ("cpu.rt_runtime_us", ""),
                    ("cpu.idle", ""),
                    (
                        "cpu.stat",
                        "nr_periods 4\nnr_throttled 2\nthrottled_time 100\n",
                    ),
                ],
                "cpuacct" => &[
                    ("cpuacct.usage", "5000\n"),
                    ("cpuacct.stat", "user 3\nsystem 1\n"),
                ],
                "cpuset" => &[("cpuset.cpus", ""), ("cpuset.mems", "")],
                "pids" => &[("pids.max", "max\n"), ("pids.current", "1\n")],
                "freezer" => &[("freezer.state", "THAWED\n")],
                "devices" => &[
                    ("devices.allow", ""),
                    ("devices.deny", ""),
                    ("devices.list", "a *:* rwm\n"),
                ],
                "blkio" => &[
                    ("blkio.bfq.weight", ""),
                    ("blkio.bfq.weight_device", ""),
                    ("blkio.throttle.read_bps_device", ""),
                    ("blkio.throttle.write_bps_device", ""),
                    ("blkio.throttle.read_iops_device", ""),
                    ("blkio.throttle.write_iops_device", ""),
                    (
                        "blkio.throttle.io_service_bytes_recursive",
                        "8:0 Read 100\n8:0 Write 50\nTotal 150\n",
                    ),
                ],
                "hugetlb" => &[("hugetlb.2MB.limit_in_bytes", "")],
                "net_cls" => &[("net_cls.classid", "")],
                "net_prio" => &[("net_prio.ifpriomap", "")],
                _ => &[],
            });
        }
        touch(&h.path, &files);
    }
    if let Some(u) = &cg.unified {
        let mut files: Vec<(&str, &str)> = vec![
            ("cgroup.procs", ""),
            ("cgroup.controllers", ""),
            ("cgroup.subtree_control", ""),
            ("cgroup.freeze", "0\n"),
        ];
        for c in &u.controllers {
            files.extend_from_slice(match c.as_str() {
                "memory" => &[
                    ("memory.max", "max\n"),
                    ("memory.swap.max", "max\n"),
                    ("memory.low", ""),
                    ("memory.current", "8192\n"),
                    ("memory.swap.current", "0\n"),
                    ("memory.events", "low 0\nhigh 0\nmax 7\noom 1\noom_kill 2\n"),
                    ("memory.stat", "file 11\nanon 22\n"),
                    ("memory.oom.group", "0\n"),
                ][..],
                "cpu" => &[
                    ("cpu.weight", ""),
                    ("cpu.max", ""),
                    ("cpu.max.burst", ""),
                    ("cpu.idle", ""),
                    (
                        "cpu.stat",
                        "usage_usec 9\nuser_usec 5\nsystem_usec 4\nnr_periods 3\n",
                    ),
                ],
                "cpuset" => &[("cpuset.cpus", ""), ("cpuset.mems", "")],
                "io" => &[
                    ("io.weight", ""),
                    ("io.max", ""),
                    ("io.stat", "8:0 rbytes=100 wbytes=50 rios=2 wios=1\n"),
                ],
                "pids" => &[("pids.max", "max\n"), ("pids.current", "3\n")],
                "hugetlb" => &[("hugetlb.2MB.max", ""), ("hugetlb.2MB.current", "0\n")],
                "rdma" => &[("rdma.max", "")],
                _ => &[],
            });
        }
        touch(&u.path, &files);
    }
}

fn res(v: serde_json::Value) -> LinuxResources {
    serde_json::from_value(v).unwrap()
}

fn content(dir: &Path, f: &str) -> String {
    std::fs::read_to_string(dir.join(f)).unwrap()
}

/// The values written to `file` (any directory), in order.
fn writes_to(log: &[(PathBuf, String)], file: &str) -> Vec<String> {
    log.iter()
        .filter(|(p, _)| p.file_name().unwrap() == file)
        .map(|(_, v)| v.clone())
        .collect()
}

#[test]
fn paths_on_each_layout() {
    let f = Fake::v1(V1_HIERARCHIES, "/user/me");
    let cg = f.cgroup(Some("/a/b"));
    assert_eq!(cg.layout, HostLayout::V1);
    assert_eq!(
        cg.v1_path("memory").unwrap(),
        f.cg_root().join("memory/a/b")
    );
    assert_eq!(
        cg.v1_path("cpuacct").unwrap(),
        f.cg_root().join("cpu,cpuacct/a/b")
    );
    assert_eq!(
        cg.v1_path("name=systemd").unwrap(),
        f.cg_root().join("systemd/a/b")
    );
    assert!(cg.unified.is_none());
    // Relative: below the caller's own cgroup; absent: the id, relative.
    assert_eq!(
        f.cgroup(Some("x/y")).v1_path("pids").unwrap(),
        f.cg_root().join("pids/user/me/x/y")
    );
    assert_eq!(
        f.cgroup(None).v1_path("pids").unwrap(),
        f.cg_root().join("pids/user/me/ctr")
    );

    let f = Fake::v2("cpu memory pids", "/user.slice/me.scope");
    let cg = f.cgroup(None);
    assert_eq!(cg.layout, HostLayout::V2);
    assert!(cg.v1.is_empty());
    // cgroup2 relative: below the parent of our own cgroup.
    assert_eq!(
        cg.unified_path().unwrap(),
        f.cg_root().join("user.slice/ctr")
    );
    assert_eq!(
        f.cgroup(Some("/n/e/s/t")).unified_path().unwrap(),
        f.cg_root().join("n/e/s/t")
    );
    assert_eq!(
        cg.place("memory"),
        Some(Place::V2(cg.unified_path().unwrap()))
    );
    assert_eq!(cg.place("hugetlb"), None);

    let f = Fake::hybrid();
    let cg = f.cgroup(Some("/h"));
    assert_eq!(cg.layout, HostLayout::Hybrid);
    assert_eq!(
        cg.place("memory"),
        Some(Place::V1(&f.cg_root().join("memory/h")))
    );
    assert_eq!(
        cg.place("hugetlb"),
        Some(Place::V2(&f.cg_root().join("unified/h")))
    );
    // The state round-trips through JSON.
    let back: Cgroup = serde_json::from_str(&serde_json::to_string(&cg).unwrap()).unwrap();
    assert_eq!(back, cg);
}

#[test]
fn systemd_form_is_refused_with_the_reason() {
    let f = Fake::v2("memory", "/");
    let e =
        Cgroup::with_host(&f.host, Some(Path::new("system.slice:brig:x")), "x", true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "linux.cgroupsPath `system.slice:brig:x`: the systemd cgroup driver was requested but systemd is not \
         running (no /run/systemd/system); use the cgroupfs driver (no --systemd-cgroup)"
    );
    std::fs::create_dir_all(f.tmp.0.join("run/systemd/system")).unwrap();
    let e =
        Cgroup::with_host(&f.host, Some(Path::new("system.slice:brig:x")), "x", true).unwrap_err();
    assert!(e.to_string().contains("/system.slice/brig-x.scope"), "{e}");
    let e = Cgroup::with_host(&f.host, Some(Path::new("/plain")), "x", true).unwrap_err();
    assert!(e.to_string().contains("slice:prefix:name"), "{e}");
}

#[test]
fn no_cgroupfs_is_an_error() {
    let host = Host {
        mountinfo: String::new(),
        self_cgroup: String::new(),
        root: "/nonexistent".into(),
    };
    let e = Cgroup::with_host(&host, None, "x", false).unwrap_err();
    assert!(e.to_string().contains("no cgroup filesystem"), "{e}");
}

#[test]
fn v1_every_resource() {
    let f = Fake::v1(V1_HIERARCHIES, "/");
    let mut cg = f.cgroup(Some("/c"));
    kernel_files(&cg);
    // Limits of 50M already: growing to 100M + 200M must raise memsw first.
    std::fs::write(
        cg.v1_path("memory").unwrap().join("memory.limit_in_bytes"),
        "50000000\n",
    )
    .unwrap();
    std::fs::write(
        cg.v1_path("memory")
            .unwrap()
            .join("memory.memsw.limit_in_bytes"),
        "50000000\n",
    )
    .unwrap();
    test_log::take();
    let r = res(json!({
        "memory": {"limit": 104857600, "reservation": 52428800, "swap": 209715200, "kernel": 1000000,
                   "kernelTCP": 2000000, "swappiness": 10, "disableOOMKiller": true, "useHierarchy": true},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "burst": 1000, "realtimeRuntime": 950,
                "realtimePeriod": 1000, "idle": 1, "cpus": "0", "mems": "0"},
        "pids": {"limit": 10},
        "blockIO": {"weight": 300, "weightDevice": [{"major": 8, "minor": 0, "weight": 200}],
                    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
                    "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 20}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
        "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}, {"name": "lo", "priority": 1}]},
        "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rw"}]
    }));
    cg.create(Some(&r)).unwrap();
    let log = test_log::take();
    let m = cg.v1_path("memory").unwrap();
    // Growing: memsw first, then the limit (memsw >= limit at every step).
    let order: Vec<&str> = log
        .iter()
        .filter_map(|(p, _)| p.file_name().unwrap().to_str())
        .filter(|n| {
            n.ends_with("limit_in_bytes")
                && n.starts_with("memory.")
                && !n.contains("kmem")
                && !n.contains("soft")
        })
        .collect();
    assert_eq!(
        order,
        ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
    );
    assert_eq!(content(m, "memory.limit_in_bytes"), "104857600");
    assert_eq!(content(m, "memory.memsw.limit_in_bytes"), "209715200");
    assert_eq!(content(m, "memory.soft_limit_in_bytes"), "52428800");
    assert_eq!(content(m, "memory.kmem.limit_in_bytes"), "1000000");
    assert_eq!(content(m, "memory.kmem.tcp.limit_in_bytes"), "2000000");
    assert_eq!(content(m, "memory.swappiness"), "10");
    assert_eq!(content(m, "memory.oom_control"), "1");
    assert_eq!(content(m, "memory.use_hierarchy"), "1");
    let c = cg.v1_path("cpu").unwrap();
    for (file, v) in [
        ("cpu.shares", "512"),
        ("cpu.cfs_quota_us", "50000"),
        ("cpu.cfs_period_us", "100000"),
        ("cpu.cfs_burst_us", "1000"),
        ("cpu.rt_runtime_us", "950"),
        ("cpu.rt_period_us", "1000"),
        ("cpu.idle", "1"),
    ] {
        assert_eq!(content(c, file), v, "{file}");
    }
    assert_eq!(writes_to(&log, "cpu.rt_period_us").len(), 1);
    let cs = cg.v1_path("cpuset").unwrap();
    assert_eq!(content(cs, "cpuset.cpus"), "0");
    assert_eq!(
        writes_to(&log, "cpuset.cpus"),
        ["0-1", "0"],
        "copied from the parent, then the spec's"
    );
    assert_eq!(content(cg.v1_path("pids").unwrap(), "pids.max"), "10");
    let b = cg.v1_path("blkio").unwrap();
    assert_eq!(content(b, "blkio.bfq.weight"), "300");
    assert_eq!(content(b, "blkio.bfq.weight_device"), "8:0 200");
    assert_eq!(content(b, "blkio.throttle.read_bps_device"), "8:0 1000");
    assert_eq!(content(b, "blkio.throttle.write_iops_device"), "8:16 20");
    assert_eq!(
        content(cg.v1_path("hugetlb").unwrap(), "hugetlb.2MB.limit_in_bytes"),
        "4194304"
    );
    assert_eq!(
        content(cg.v1_path("net_cls").unwrap(), "net_cls.classid"),
        "1048577"
    );
    assert_eq!(writes_to(&log, "net_prio.ifpriomap"), ["eth0 5", "lo 1"]);
    // Devices: from allow-all, reset to deny-all, then the spec's allow and runc's defaults.
    assert_eq!(writes_to(&log, "devices.deny"), ["a"]);
    let allowed = writes_to(&log, "devices.allow");
    assert!(allowed.contains(&"c 10:200 rw".to_string()), "{allowed:?}");
    for d in [
        "c 1:3 rwm",
        "c 1:5 rwm",
        "c 136:* rwm",
        "c 5:2 rwm",
        "c *:* m",
        "b *:* m",
    ] {
        assert!(allowed.contains(&d.to_string()), "{d} in {allowed:?}");
    }
}

#[test]
fn v1_shrinking_memory_and_unlimited() {
    let f = Fake::v1(&["memory"], "/");
    let cg = f.cgroup(Some("/c"));
    kernel_files(&cg);
    let m = cg.v1_path("memory").unwrap().to_path_buf();
    std::fs::write(m.join("memory.limit_in_bytes"), "300000000\n").unwrap();
    test_log::take();
    cg.update(&res(
        json!({"memory": {"limit": 100000000, "swap": 200000000}}),
    ))
    .unwrap();
    let log = test_log::take();
    let files: Vec<_> = log
        .iter()
        .map(|(p, v)| {
            (
                p.file_name().unwrap().to_str().unwrap().to_string(),
                v.clone(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            ("memory.limit_in_bytes".to_string(), "100000000".to_string()),
            (
                "memory.memsw.limit_in_bytes".to_string(),
                "200000000".to_string()
            )
        ],
        "shrinking: limit first; update without devices leaves devices alone"
    );
    cg.update(&res(json!({"memory": {"limit": -1}}))).unwrap();
    assert_eq!(content(&m, "memory.limit_in_bytes"), "-1");
    assert_eq!(
        content(&m, "memory.memsw.limit_in_bytes"),
        "-1",
        "unlimited memory, swap unset: both unlimited"
    );
    let e = cg
        .update(&res(json!({"memory": {"swappiness": 101}})))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "linux.resources.memory.swappiness: 101 is out of the range 0-100"
    );
    // checkBeforeUpdate: usage (4096 in the fake) above the new limit is refused.
    let e = cg
        .update(&res(
            json!({"memory": {"limit": 1000, "checkBeforeUpdate": true}}),
        ))
        .unwrap_err();
    assert!(
        e.to_string().contains("below the current usage 4096"),
        "{e}"
    );
}

#[test]
fn v1_missing_controllers_and_unified_are_named() {
    let f = Fake::v1(&["memory", "cpu"], "/");
    let cg = f.cgroup(Some("/c"));
    kernel_files(&cg);
    let e = cg.update(&res(json!({"pids": {"limit": 5}}))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "linux.resources.pids: the pids controller is not mounted (no v1 hierarchy for it)"
    );
    let e = cg
        .update(&res(json!({"unified": {"memory.high": "1000"}})))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "linux.resources.unified: requires cgroup v2 (this host has only v1)"
    );
    let e = cg
        .update(&res(json!({"network": {"classID": 1}})))
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("linux.resources.network.classID: the net_cls controller"),
        "{e}"
    );
    let e = cg
        .update(&res(json!({"blockIO": {"weight": 10}})))
        .unwrap_err();
    assert!(
        e.to_string().starts_with("linux.resources.blockIO: "),
        "{e}"
    );
    // A file the kernel lacks: the field and the file are in the chain.
    std::fs::remove_file(cg.v1_path("cpu").unwrap().join("cpu.cfs_burst_us")).unwrap();
    let e = cg.update(&res(json!({"cpu": {"burst": 5}}))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "linux.resources.cpu.burst: this kernel has no cpu.cfs_burst_us"
    );
    std::fs::remove_file(cg.v1_path("cpu").unwrap().join("cpu.shares")).unwrap();
    let e = cg.update(&res(json!({"cpu": {"shares": 5}}))).unwrap_err();
    // One line: the field, the write (value and file) and the errno text.
    let e = e.to_string();
    assert!(
        e.starts_with("linux.resources.cpu.shares: write `5` to `/tmp/")
            && e.ends_with("/cpu.shares`: No such file or directory"),
        "{e}"
    );
}

#[test]
fn v1_devices_update_writes_only_differences() {
    let f = Fake::v1(&["devices"], "/");
    let cg = f.cgroup(Some("/c"));
    kernel_files(&cg);
    let d = cg.v1_path("devices").unwrap();
    // The cgroup already has the defaults plus 10:200 rw (a whitelist).
    let mut list = String::new();
    for r in devices::rules_with_defaults(&[]) {
        list.push_str(&devices::Rule::from_spec(&r).unwrap().v1_text());
        list.push('\n');
    }
    list.push_str("c 10:200 rw\n");
    std::fs::write(d.join("devices.list"), list).unwrap();
    test_log::take();
    cg.update(&res(
        json!({"devices": [{"allow": false, "access": "rwm"}]}),
    ))
    .unwrap();
    let log = test_log::take();
    assert_eq!(
        writes_to(&log, "devices.deny"),
        ["c 10:200 rw"],
        "never `a` on a live whitelist"
    );
}

#[test]
fn v2_every_resource_and_conversions() {
    let f = Fake::v2("cpuset cpu io memory hugetlb pids rdma misc", "/");
    let mut cg = f.cgroup(Some("/parent/c"));
    kernel_files(&cg);
    touch(
        &f.cg_root().join("parent"),
        &[
            (
                "cgroup.controllers",
                "cpuset cpu io memory hugetlb pids rdma misc",
            ),
            ("cgroup.subtree_control", ""),
        ],
    );
    test_log::take();
    let r = res(json!({
        "memory": {"limit": 104857600, "swap": 209715200, "reservation": 1000},
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "burst": 10, "idle": 0, "cpus": "0-1"},
        "pids": {"limit": -1},
        "blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 10}],
                    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
                    "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 7}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}],
        "rdma": {"mlx5_0": {"hcaHandles": 3}},
        "unified": {"memory.oom.group": "1"}
    }));
    cg.create(Some(&r)).unwrap();
    let log = test_log::take();
    let u = cg.unified_path().unwrap();
    assert_eq!(content(u, "memory.max"), "104857600");
    assert_eq!(content(u, "memory.swap.max"), "104857600", "swap - limit");
    assert_eq!(content(u, "memory.low"), "1000");
    assert_eq!(
        content(u, "cpu.weight"),
        "39",
        "1 + ((1024 - 2) * 9999) / 262142"
    );
    assert_eq!(content(u, "cpu.max"), "50000 100000");
    assert_eq!(content(u, "cpu.max.burst"), "10");
    assert_eq!(content(u, "cpu.idle"), "0");
    assert_eq!(content(u, "cpuset.cpus"), "0-1");
    assert_eq!(content(u, "pids.max"), "max");
    assert_eq!(content(u, "io.weight"), "8:0 1");
    assert_eq!(writes_to(&log, "io.weight"), ["4950", "8:0 1"]);
    assert_eq!(writes_to(&log, "io.max"), ["8:0 rbps=1000", "8:0 wiops=7"]);
    assert_eq!(content(u, "hugetlb.2MB.max"), "2097152");
    assert_eq!(content(u, "rdma.max"), "mlx5_0 hca_handle=3 hca_object=max");
    assert_eq!(content(u, "memory.oom.group"), "1");
    // Pure v2: every controller of the root delegated down to the leaf's parent, one by one.
    let root_writes: Vec<_> = log
        .iter()
        .filter(|(p, _)| p == &f.cg_root().join("cgroup.subtree_control"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        root_writes,
        ["+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc"]
    );
    assert_eq!(
        writes_to(&log, "cgroup.subtree_control").len(),
        2,
        "root and /parent, not the leaf"
    );
}

#[test]
fn v2_refuses_v1_only_fields_by_name() {
    let f = Fake::v2("cpu memory pids io", "/");
    let cg = f.cgroup(Some("/c"));
    kernel_files(&cg);
    for (r, msg) in [
        (json!({"memory": {"kernel": 1}}), "linux.resources.memory.kernel: not supported on cgroup v2"),
        (json!({"memory": {"kernelTCP": 1}}), "linux.resources.memory.kernelTCP: not supported on cgroup v2"),
        (json!({"memory": {"swappiness": 1}}), "linux.resources.memory.swappiness: not supported on cgroup v2"),
        (json!({"cpu": {"realtimeRuntime": 5}}), "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2"),
        (json!({"blockIO": {"leafWeight": 5}}), "linux.resources.blockIO.leafWeight: not supported on cgroup v2"),
        (
            json!({"network": {"classID": 5}}),
            "linux.resources.network.classID: not supported on cgroup v2 (net_cls/net_prio are v1-only controllers)",
        ),
        (
            json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]}),
            "linux.resources.hugepageLimits: the hugetlb controller is not available (not in cgroup.controllers)",
        ),
        (
            json!({"memory": {"limit": 100, "swap": 50}}),
            "linux.resources.memory.swap: memory+swap limit 50 is below the memory limit 100",
        ),
        (
            json!({"unified": {"rdma.max": "x"}}),
            "linux.resources.unified.rdma.max: the rdma controller is not available in cgroup2",
        ),
    ] {
        assert_eq!(cg.update(&res(r)).unwrap_err().to_string(), msg);
    }
    // Limit equal to swap: no swap at all.
    cg.update(&res(json!({"memory": {"limit": 100, "swap": 100}})))
        .unwrap();
    assert_eq!(content(cg.unified_path().unwrap(), "memory.swap.max"), "0");
    cg.update(&res(json!({"cpu": {"period": 50000}}))).unwrap();
    assert_eq!(content(cg.unified_path().unwrap(), "cpu.max"), "max 50000");
}

#[test]
fn hybrid_places_each_controller_where_it_lives() {
    let f = Fake::hybrid();
    let mut cg = f.cgroup(Some("/h"));
    kernel_files(&cg);
    test_log::take();
    cg.create(Some(&res(json!({
        "memory": {"limit": 1000000},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}],
        "unified": {"hugetlb.2MB.max": "4194304"}
    }))))
    .unwrap();
    let log = test_log::take();
    assert_eq!(
        content(cg.v1_path("memory").unwrap(), "memory.limit_in_bytes"),
        "1000000"
    );
    assert_eq!(
        content(&f.cg_root().join("unified/h"), "hugetlb.2MB.max"),
        "4194304"
    );
    assert_eq!(writes_to(&log, "hugetlb.2MB.max"), ["2097152", "4194304"]);
    // Only what is used is delegated in the unified hierarchy of a hybrid host.
    assert_eq!(writes_to(&log, "cgroup.subtree_control"), ["+hugetlb"]);
    let e = cg
        .update(&res(json!({"unified": {"memory.high": "5"}})))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "linux.resources.unified.memory.high: the memory controller is a v1 hierarchy on this host, not in cgroup2"
    );
    // Without hugetlb needs, the unified root is left alone.
    let mut cg2 = f.cgroup(Some("/h2"));
    kernel_files(&cg2);
    test_log::take();
    cg2.create(None).unwrap();
    assert!(writes_to(&test_log::take(), "cgroup.subtree_control").is_empty());
}

#[test]
fn create_failure_removes_what_it_made() {
    let f = Fake::v2("pids", "/");
    let mut cg = f.cgroup(Some("/made/leaf"));
    // No kernel files: pids.max is missing, so the write fails.
    let e = cg
        .create(Some(&res(json!({"pids": {"limit": 3}}))))
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("linux.resources.pids.limit: write `3` to `"),
        "{e}"
    );
    assert!(!f.cg_root().join("made").exists(), "both made dirs removed");
}

#[test]
fn destroy_is_idempotent_and_fine_on_missing_dirs() {
    for f in [
        Fake::v1(V1_HIERARCHIES, "/"),
        Fake::v2("memory pids", "/"),
        Fake::hybrid(),
    ] {
        let cg = f.cgroup(Some("/gone"));
        cg.destroy().unwrap();
        kernel_files(&cg);
        touch(&cg.dirs()[0].join("nested"), &[("cgroup.procs", "")]);
        cg.destroy().unwrap();
        for d in cg.dirs() {
            assert!(!d.exists(), "{}", d.display());
        }
        cg.destroy().unwrap();
    }
}

#[test]
fn destroy_removes_created_ancestors_once_unused() {
    let f = Fake::v2("pids", "/");
    let mut a = f.cgroup(Some("/shared/a"));
    let mut b = f.cgroup(Some("/shared/b"));
    a.create(None).unwrap();
    b.create(None).unwrap();
    assert_eq!(a.created, [f.cg_root().join("shared")]);
    assert!(b.created.is_empty(), "b found /shared made");
    // Restored from state.json, as `brig delete` does.
    let a: Cgroup = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    a.destroy().unwrap();
    assert!(f.cg_root().join("shared").is_dir(), "b still lives there");
    b.destroy().unwrap();
    assert!(f.cg_root().join("shared").is_dir(), "b did not make it");
    a.destroy().unwrap();
    assert!(!f.cg_root().join("shared").exists());
}

#[test]
fn freeze_stats_oom_on_fakes() {
    let f = Fake::v1(V1_HIERARCHIES, "/");
    let cg = f.cgroup(Some("/c"));
    kernel_files(&cg);
    cg.freeze().unwrap();
    assert!(cg.is_frozen().unwrap());
    cg.thaw().unwrap();
    assert!(!cg.is_frozen().unwrap());
    assert_eq!(cg.oom_count().unwrap(), 3);
    let s = cg.stats().unwrap();
    assert_eq!(s.cpu.usage.total, 5000);
    assert_eq!(s.cpu.usage.user, 30_000_000);
    assert_eq!(s.cpu.throttling.throttled_periods, 2);
    assert_eq!(s.memory.cache, 10);
    assert_eq!(s.memory.usage.usage, 4096);
    assert_eq!(s.pids.current, 1);
    assert_eq!(s.pids.limit, 0, "max reads as 0");
    assert_eq!(
        s.blkio.io_service_bytes_recursive.len(),
        2,
        "the Total line is skipped"
    );

    let f = Fake::v2("cpu memory pids io hugetlb", "/");
    let cg = f.cgroup(Some("/c"));
    kernel_files(&cg);
    cg.freeze().unwrap();
    assert!(cg.is_frozen().unwrap());
    cg.thaw().unwrap();
    assert_eq!(cg.oom_count().unwrap(), 2);
    let s = cg.stats().unwrap();
    assert_eq!(s.cpu.usage.total, 9000);
    assert_eq!(s.cpu.usage.kernel, 4000);
    assert_eq!(
        s.memory.usage,
        MemoryEntry {
            limit: u64::MAX,
            usage: 8192,
            max: 0,
            failcnt: 7
        }
    );
    assert_eq!(s.memory.cache, 11);
    assert_eq!(s.pids.current, 3);
    assert_eq!(s.blkio.io_serviced_recursive.len(), 2);
    assert!(s.hugetlb.contains_key("2MB"));
}

#[test]
fn features_say_what_is_built_in() {
    let f = features();
    assert_eq!(f.v1(), &Some(true));
    assert_eq!(f.v2(), &Some(true));
    assert_eq!(f.systemd(), &Some(false));
}
