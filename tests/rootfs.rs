//! The container's filesystem and namespaces seen from inside: mounts and options, read-only
//! root, masked and read-only paths, devices, /dev links, sysctls, pivot vs --no-pivot, user
//! namespaces with id maps, namespaces joined by path, the cgroup mount.

use brig_tests::*;
use serde_json::json;

fn run_sh(env: &Env, name: &str, script: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Run {
    let id = env.id(name);
    let b = env.bundle(&id, &["sh", "-c", script], edit);
    let r = env.run(&id, &b);
    env.assert_gone(&id);
    r
}

fn mount_line<'a>(mounts: &'a str, dest: &str) -> &'a str {
    mounts
        .lines()
        .find(|l| l.split(' ').nth(4) == Some(dest))
        .unwrap_or_else(|| panic!("no mount at {dest} in\n{mounts}"))
}

#[test]
fn mounts_with_options_binds_and_readonly_root() {
    let env = Env::new("mounts");
    let src = env.dir.join("data");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("f"), "host data\n").unwrap();
    let r = run_sh(&env, "m", "cat /proc/self/mountinfo; cat /data/f; touch /rootfile 2>&1; touch /data/x 2>&1; touch /scratch/ok && echo scratch-ok", |c| {
        let m = c["mounts"].as_array_mut().unwrap();
        m.push(json!({"destination": "/data", "type": "bind", "source": src, "options": ["rbind", "ro", "nosuid"]}));
        m.push(json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nodev", "noexec", "size=1m", "mode=750"]}));
    });
    r.ok();
    let data = mount_line(&r.stdout, "/data");
    assert!(data.contains(" ro,nosuid"), "{data}");
    let scratch = mount_line(&r.stdout, "/scratch");
    assert!(
        scratch.contains("nodev,noexec")
            && scratch.contains("size=1024k")
            && scratch.contains("mode=750"),
        "{scratch}"
    );
    let root = mount_line(&r.stdout, "/");
    assert!(root.split(' ').nth(5).unwrap().starts_with("ro"), "{root}");
    assert!(r.stdout.contains("host data"));
    assert!(
        r.stdout.contains("touch: /rootfile: Read-only file system"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("touch: /data/x: Read-only file system"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("scratch-ok"));
}

/// As runc: a tmpfs over an existing directory takes that directory's mode (after any copy-up),
/// a tmpfs on a new directory keeps its `mode=`; `tmpcopyup` keeps subdirectory modes whatever
/// the umask; a read-only tmpfs is copied up first, then made read-only.
#[test]
fn tmpfs_modes_copy_up_and_read_only() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new("tmpfs");
    let id = env.id("t");
    let script = "stat -c '%n %a' /old /old/sub /new /newcp /oldro; ls /old /oldro; grep -E ' /(old|new|newcp|oldro) ' /proc/mounts; touch /oldro/x 2>&1; touch /rotmp/x 2>&1; touch /rotmp/inner/y && echo inner-written; true";
    let b = env.bundle(&id, &["sh", "-c", script], |c| {
        let m = c["mounts"].as_array_mut().unwrap();
        for (dest, opts) in [
            ("/old", json!(["mode=1770", "tmpcopyup"])),
            ("/new", json!(["mode=1770"])),
            ("/newcp", json!(["mode=700", "tmpcopyup"])),
            ("/oldro", json!(["mode=1770", "tmpcopyup", "ro", "nosuid"])),
            // a read-only tmpfs with a later mount inside: made read-only last, as runc
            ("/rotmp", json!(["ro"])),
            ("/rotmp/inner", json!([])),
        ] {
            m.push(
                json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": opts}),
            );
        }
    });
    let rootfs = b.join("rootfs");
    for (d, mode) in [("old", 0o751), ("old/sub", 0o777), ("oldro", 0o755)] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
        std::fs::set_permissions(rootfs.join(d), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::write(rootfs.join("oldro/kept"), "x").unwrap();
    let r = env.run(&id, &b);
    env.assert_gone(&id);
    r.ok();
    for want in [
        "/old 751\n/old/sub 777\n/new 1770\n/newcp 700\n/oldro 755\n",
        "/old:\nsub\n",
        "/oldro:\nkept\n",
        "touch: /oldro/x: Read-only file system",
        "touch: /rotmp/x: Read-only file system",
        "inner-written",
        // newer kernels add options after mode= (inode64)
        "tmpfs /old tmpfs rw,relatime,mode=1770",
        "tmpfs /oldro tmpfs ro,nosuid,relatime,mode=1770",
    ] {
        let found = if want.starts_with("tmpfs ") {
            [" ", ","]
                .iter()
                .any(|end| r.stdout.contains(&format!("{want}{end}")))
        } else {
            r.stdout.contains(want)
        };
        assert!(found, "missing {want:?} in\n{}", r.stdout);
    }
}

#[test]
fn masked_and_readonly_paths() {
    let env = Env::new("masked");
    let r = run_sh(&env, "mk", "cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; echo 1 > /proc/sys/vm/overcommit_memory 2>&1 || echo sys-ro", |_| {});
    r.ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0].trim(), "0", "kcore must read as /dev/null");
    assert_eq!(lines[1].trim(), "0", "/sys/firmware must be an empty tmpfs");
    assert!(r.stdout.contains("sys-ro"), "{}", r.stdout);
}

#[test]
fn default_devices_symlinks_and_spec_devices() {
    let env = Env::new("devices");
    let r = run_sh(
        &env,
        "d",
        "for d in null zero full random urandom tty fuse; do stat -c '%n %F %t:%T %a %u:%g' /dev/$d; done; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; echo x > /dev/null && echo null-ok",
        |c| {
            c["linux"]["devices"] = json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 1, "gid": 2}]);
        },
    );
    r.ok();
    for want in [
        "/dev/null character special file 1:3 666 0:0",
        "/dev/zero character special file 1:5 666 0:0",
        "/dev/full character special file 1:7 666 0:0",
        "/dev/random character special file 1:8 666 0:0",
        "/dev/urandom character special file 1:9 666 0:0",
        "/dev/tty character special file 5:0 666 0:0",
        "/dev/fuse character special file a:e5 640 1:2",
        "/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx",
        "null-ok",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
}

#[test]
fn sysctl_in_the_containers_namespaces_only() {
    let env = Env::new("sysctl");
    let r = run_sh(
        &env,
        "s",
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni",
        |c| {
            c["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"});
            c["linux"]["readonlyPaths"] = json!([]);
        },
    );
    r.ok();
    assert_eq!(r.stdout, "1\n1234\n");
    let id = env.id("s2");
    let b = env.bundle(&id, &["true"], |c| {
        c["linux"]["sysctl"] = json!({"vm.swappiness": "1"})
    });
    env.create(&id, &b)
        .fails_with("linux.sysctl.vm.swappiness: not in a namespace of the container");
    env.assert_gone(&id);
}

#[test]
fn no_pivot_and_rootfs_propagation() {
    let env = Env::new("pivot");
    let id = env.id("np");
    let b = env.bundle(&id, &["sh", "-c", "ls /bin/busybox && ls / | wc -l"], |c| {
        c["linux"]["rootfsPropagation"] = json!("private")
    });
    let r = env.brig(&["run", "--no-pivot", "--bundle", b.to_str().unwrap(), &id]);
    r.ok();
    assert!(r.stdout.contains("/bin/busybox"));
    env.assert_gone(&id);
    // rootfsPropagation on the new root (runc 1.1 ignores it; crun and brig apply it).
    for (prop, want) in [
        ("shared", vec!["shared"]),
        ("private", vec![]),
        ("unbindable", vec!["unbindable"]),
    ] {
        let script = "grep -E '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / ' /proc/self/mountinfo";
        let ours = run_sh(&env, "pr", script, |c| {
            c["linux"]["rootfsPropagation"] = json!(prop)
        });
        ours.ok();
        let before = ours.stdout.split(" - ").next().unwrap();
        let tags: Vec<String> = before
            .split_whitespace()
            .skip(6)
            .map(|t| t.split(':').next().unwrap().to_string())
            .collect();
        assert_eq!(tags, want, "{prop}: {:?}", ours.stdout);
    }
}

/// The rootfs is a mount point of its own, as containerd's overlay snapshots are, and
/// `rootfsPropagation` makes `/` (recursively) shared: pivot_root must still be given a private
/// new root (it failed with EINVAL when only the mount under the rootfs directory was made
/// private). Run in a private mount namespace so the test's bind mount stays there.
#[test]
fn rootfs_mount_point_with_shared_propagation() {
    let env = Env::new("rootfs-mnt");
    for prop in ["shared", "rshared", "slave"] {
        let id = env.id("rm");
        let b = env.bundle(&id, &["sh", "-c", "echo ran"], |c| {
            c["linux"]["rootfsPropagation"] = json!(prop)
        });
        let mut cmd = std::process::Command::new("unshare");
        cmd.args(["-m", "--propagation", "private", "sh", "-c"])
            .arg(r#"mount --bind "$1" "$1" && exec "$2" --root "$3" run --bundle "$4" "$5""#)
            .arg("sh")
            .arg(b.join("rootfs"))
            .arg(brig_bin())
            .arg(&env.root)
            .arg(&b)
            .arg(&id)
            .stdin(std::process::Stdio::null());
        let r = env.output(&mut cmd);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, "ran\n"),
            "{prop}: {}",
            r.stderr
        );
        env.assert_gone(&id);
    }
}

#[test]
fn user_namespace_with_id_maps() {
    let env = Env::new("userns");
    let r = run_sh(&env, "un", "cat /proc/self/uid_map /proc/self/gid_map; id -u; ls -ln /bin/busybox | tr -s ' ' | cut -d' ' -f3", |c| {
        c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
        c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        // sysfs needs the host's in a user namespace without its own netns; keep it simple.
        c["mounts"].as_array_mut().unwrap().retain(|m| m["type"] != "cgroup");
    });
    r.ok();
    let l: Vec<_> = r
        .stdout
        .lines()
        .map(|x| x.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(l[0], "0 100000 65536");
    assert_eq!(l[1], "0 100000 65536");
    assert_eq!(l[2], "0");
    // Host root (uid 0) is unmapped inside: files owned by it show as the overflow uid.
    assert_eq!(l[3], "65534");
}

#[test]
fn namespaces_joined_by_path() {
    let env = Env::new("join");
    let a = env.id("a");
    let ba = env.bundle(&a, &["sleep", "30"], |_| {});
    env.create(&a, &ba).ok();
    let pid = env.state(&a).unwrap()["pid"].as_i64().unwrap();
    let want = |ns: &str| {
        std::fs::read_link(format!("/proc/{pid}/ns/{ns}"))
            .unwrap()
            .display()
            .to_string()
    };
    let r = run_sh(
        &env,
        "b",
        "for n in net ipc uts pid; do readlink /proc/self/ns/$n; done; echo $$",
        |c| {
            c["linux"]["namespaces"] = json!([
                {"type": "mount"},
                {"type": "network", "path": format!("/proc/{pid}/ns/net")},
                {"type": "ipc", "path": format!("/proc/{pid}/ns/ipc")},
                {"type": "uts", "path": format!("/proc/{pid}/ns/uts")},
                {"type": "pid", "path": format!("/proc/{pid}/ns/pid")}
            ]);
            c["hostname"] = serde_json::Value::Null;
        },
    );
    r.ok();
    let l: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(l[..4], [want("net"), want("ipc"), want("uts"), want("pid")]);
    assert_ne!(l[4], "1", "joined pid namespace: not its pid 1");
    env.brig(&["delete", "--force", &a]).ok();
    env.assert_gone(&a);
    let id = env.id("badpath");
    let b = env.bundle(
        &id,
        &["true"],
        |c| {
            c["linux"]["namespaces"] =
                json!([{"type": "mount"}, {"type": "network", "path": "/proc/self/ns/uts"}])
        },
    );
    env.create(&id, &b)
        .fails_with("linux.namespaces[1] (net): `/proc/self/ns/uts` is not a net namespace");
    env.assert_gone(&id);
}

#[test]
fn cgroup_mount_shows_the_containers_cgroup() {
    let env = Env::new("cgmount");
    let r = run_sh(
        &env,
        "cg",
        "ls /sys/fs/cgroup; cat /proc/self/cgroup | head -3",
        |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "cgroup"}));
        },
    );
    r.ok();
    assert!(
        r.stdout
            .lines()
            .any(|l| l == "memory" || l == "cgroup.procs"),
        "{}",
        r.stdout
    );
    // In a private cgroup namespace the container's own cgroup is its root.
    for l in r.stdout.lines().filter(|l| l.contains(':')) {
        assert!(l.ends_with(":/"), "{l}");
    }
}

#[test]
fn time_namespace_offsets() {
    if !std::path::Path::new("/proc/self/ns/time").exists() {
        panic!("this kernel has no time namespaces: the test cannot run here");
    }
    let env = Env::new("timens");
    let r = run_sh(&env, "t", "cut -d. -f1 /proc/uptime", |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "time"}));
        c["linux"]["timeOffsets"] = json!({"boottime": {"secs": 86400 * 365, "nanosecs": 0}});
    });
    r.ok();
    let up: u64 = r.stdout.trim().parse().unwrap();
    assert!(up >= 86400 * 365, "{up}");
}
