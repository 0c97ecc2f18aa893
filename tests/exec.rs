//! `brig exec`: a new process joins the running container (namespaces, cgroup, attributes).

use brig_tests::*;
use serde_json::json;

fn running(env: &Env, name: &str) -> (String, std::path::PathBuf) {
    let id = env.id(name);
    let b = env.bundle(&id, &["sleep", "300"], |c| {
        c["root"]["readonly"] = json!(false)
    });
    env.create(&id, &b).ok();
    env.brig(&["start", &id]).ok();
    (id, b)
}

#[test]
fn exec_joins_the_container_and_passes_the_status_through() {
    let env = Env::new("exec");
    let (id, _) = running(&env, "e");
    let init = env.state(&id).unwrap()["pid"].as_i64().unwrap();
    let r = env.brig(&[
        "exec",
        &id,
        "sh",
        "-c",
        "hostname; readlink /proc/self/ns/pid; ls /proc/self/fd; exit 7",
    ]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    let want: Vec<String> = ["pid", "mnt", "net"]
        .iter()
        .map(|n| {
            std::fs::read_link(format!("/proc/{init}/ns/{n}"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "brig");
    assert_eq!(lines[1], want[0]);
    // ls's own dir fd is 3: nothing of brig's leaks in.
    assert_eq!(
        lines[lines.len() - 4..],
        ["0", "1", "2", "3"],
        "{}",
        r.stdout
    );
    // It ran in the container's cgroup.
    let r = env.brig(&["exec", &id, "cat", "/proc/self/cgroup"]);
    r.ok();
    assert!(
        r.stdout
            .lines()
            .any(|l| l.ends_with(&format!("/brig-test/{id}"))),
        "{}",
        r.stdout
    );
    env.brig(&["delete", "-f", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn exec_flags_user_env_cwd_caps() {
    let env = Env::new("exec-flags");
    let (id, _) = running(&env, "f");
    let r = env.brig(&[
        "exec",
        "--user",
        "65534:65534",
        "-g",
        "10",
        "--env",
        "FOO=bar",
        "--cwd",
        "/tmp",
        &id,
        "sh",
        "-c",
        "id -u; id -g; id -G; echo $FOO; pwd",
    ]);
    r.ok();
    assert_eq!(r.stdout, "65534\n65534\n65534 10\nbar\n/tmp\n");
    let r = env.brig(&[
        "exec",
        "--cap",
        "CAP_SYS_ADMIN",
        &id,
        "grep",
        "CapEff",
        "/proc/self/status",
    ]);
    r.ok();
    let eff = u64::from_str_radix(r.stdout.split_whitespace().nth(1).unwrap(), 16).unwrap();
    assert!(eff & (1 << 21) != 0, "CAP_SYS_ADMIN missing: {}", r.stdout);
    env.brig(&["delete", "-f", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn exec_with_a_process_file_detached_with_pid_file() {
    let env = Env::new("exec-process");
    let (id, b) = running(&env, "p");
    let pf = env.dir.join("proc.json");
    std::fs::write(&pf, serde_json::to_vec(&json!({"args": ["sh", "-c", "echo from-process-json > /tmp/out; sleep 1"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"]})).unwrap()).unwrap();
    let pidfile = env.dir.join("exec.pid");
    env.brig(&[
        "exec",
        "--process",
        pf.to_str().unwrap(),
        "--detach",
        "--pid-file",
        pidfile.to_str().unwrap(),
        &id,
    ])
    .ok();
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().parse().unwrap();
    assert!(pid > 0);
    for _ in 0..300 {
        if std::fs::read_to_string(b.join("rootfs/tmp/out")).is_ok_and(|s| !s.is_empty()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        std::fs::read_to_string(b.join("rootfs/tmp/out")).unwrap(),
        "from-process-json\n"
    );
    // The detached process is ours to reap once `brig exec` has gone (we are a subreaper, as
    // conmon and containerd-shim are).
    let st = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).unwrap();
    assert!(
        matches!(st, nix::sys::wait::WaitStatus::Exited(_, 0)),
        "{st:?}"
    );
    env.brig(&["delete", "-f", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn exec_errors() {
    let env = Env::new("exec-err");
    let (id, _) = running(&env, "x");
    let r = env.brig(&["exec", &id, "no-such-prog"]);
    assert_eq!(r.code, 127);
    assert!(
        r.stderr
            .contains("exec: `no-such-prog`: executable file not found in $PATH"),
        "{}",
        r.stderr
    );
    let r = env.brig(&["exec", &id, "/etc/passwd"]);
    assert_eq!(r.code, 126, "{}", r.stderr);
    let r = env.brig(&["exec", &id, "/no/such/exe"]);
    assert_eq!(r.code, 127, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("exec: `/no/such/exe`: stat /no/such/exe: no such file or directory"),
        "{}",
        r.stderr
    );
    // A script whose interpreter is missing: execve's ENOENT is about the interpreter.
    let r = env.brig(&[
        "exec",
        &id,
        "sh",
        "-c",
        "printf '#!/no/interp\\n' > /tmp/bad.sh; chmod 755 /tmp/bad.sh",
    ]);
    r.ok();
    let r = env.brig(&["exec", &id, "/tmp/bad.sh"]);
    assert_eq!(r.code, 127, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "exec: `/tmp/bad.sh`: no such file or directory (its interpreter or dynamic loader is missing)"
        ),
        "{}",
        r.stderr
    );
    env.brig(&["exec", "ghost", "true"])
        .fails_with("container `ghost` does not exist");
    env.brig(&["kill", &id, "KILL"]).ok();
    env.wait_status(&id, "stopped");
    env.brig(&["exec", &id, "true"])
        .fails_with("cannot exec in container in state `stopped`");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn exec_into_a_sub_cgroup() {
    let env = Env::new("exec-cg");
    let (id, _) = running(&env, "c");
    let dirs = cgroup_dirs(&id);
    for d in &dirs {
        if d.exists() {
            std::fs::create_dir(d.join("sub")).unwrap();
            // A new v1 cpuset starts empty and takes no task: give it its parent's.
            for f in ["cpuset.cpus", "cpuset.mems"] {
                if let Ok(v) = std::fs::read_to_string(d.join(f)) {
                    let sub = d.join("sub").join(f);
                    if !d.join("cgroup.controllers").exists() {
                        std::fs::write(sub, v.trim()).unwrap();
                    }
                }
            }
        }
    }
    // A plain path: every hierarchy's sub-cgroup.
    let r = env.brig(&["exec", "--cgroup", "sub", &id, "cat", "/proc/self/cgroup"]);
    r.ok();
    let want = format!("/brig-test/{id}/sub");
    for line in r.stdout.lines() {
        assert!(line.ends_with(&want), "{line} in\n{}", r.stdout);
    }
    if layout() == Layout::V2 {
        env.brig(&["exec", "--cgroup", "memory:sub", &id, "true"])
            .fails_with("a controller-specific sub-cgroup needs cgroup v1");
    } else {
        // One v1 controller's sub-cgroup; the others stay in the container's cgroup.
        let r = env.brig(&[
            "exec",
            "--cgroup",
            "pids:sub",
            &id,
            "cat",
            "/proc/self/cgroup",
        ]);
        r.ok();
        for line in r.stdout.lines() {
            let in_sub = line
                .split(':')
                .nth(1)
                .unwrap()
                .split(',')
                .any(|c| c == "pids");
            assert_eq!(line.ends_with(&want), in_sub, "{line} in\n{}", r.stdout);
        }
        env.brig(&["exec", "--cgroup", "nosuchctl:sub", &id, "true"])
            .fails_with("no v1 hierarchy has `nosuchctl`");
    }
    env.brig(&["exec", "--cgroup", "missing", &id, "true"])
        .fails_with("does not exist");
    env.brig(&["exec", "--cgroup", "../x", &id, "true"])
        .fails_with("must stay below the container's (no `..`)");
    // As runc: the path is joined onto the container's cgroup; `/` is the container's own.
    let r = env.brig(&["exec", "--cgroup", "/", &id, "cat", "/proc/self/cgroup"]);
    r.ok();
    assert!(
        r.stdout
            .lines()
            .all(|l| l.ends_with(&format!("/brig-test/{id}"))),
        "{}",
        r.stdout
    );
    let r = env.brig(&["exec", "--cgroup", "/sub", &id, "cat", "/proc/self/cgroup"]);
    r.ok();
    assert!(r.stdout.lines().all(|l| l.ends_with(&want)), "{}", r.stdout);
    env.brig(&[
        "exec", "--cgroup", "sub", "--cgroup", "pids:sub", &id, "true",
    ])
    .fails_with("missing <controller>: prefix");
    // delete removes the sub-cgroups with the container's.
    env.brig(&["delete", "-f", &id]).ok();
    env.assert_gone(&id);
    for d in &dirs {
        assert!(!d.exists(), "{} left behind", d.display());
    }
}
