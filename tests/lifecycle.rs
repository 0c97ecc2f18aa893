//! Lifecycle: create/start/state/kill/delete/run/list/spec, the state JSON, exit codes, hooks.

use brig_tests::*;
use serde_json::{json, Value};

#[test]
fn run_passes_the_exit_status_through() {
    let env = Env::new("run-exit");
    let id = env.id("exit");
    let b = env.bundle(&id, &["sh", "-c", "echo out; echo err >&2; exit 3"], |_| {});
    let r = env.run(&id, &b);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stdout, "out\n");
    assert_eq!(r.stderr, "err\n");
    env.assert_gone(&id);
}

#[test]
fn run_reports_death_by_signal_as_128_plus_n() {
    let env = Env::new("run-sig");
    let id = env.id("sig");
    // PID 1 ignores signals it has no handler for, except from an ancestor namespace: a child kills itself.
    let b = env.bundle(&id, &["sh", "-c", "sh -c 'kill -TERM $$'; exit $?"], |_| {});
    assert_eq!(env.run(&id, &b).code, 143);
    let id2 = env.id("sig1");
    let b2 = env.bundle(&id2, &["sleep", "30"], |_| {});
    let mut child = env
        .cmd()
        .args(["run", "--bundle", b2.to_str().unwrap(), &id2])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    env.wait_status(&id2, "running");
    env.brig(&["kill", &id2, "KILL"]).ok();
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(137));
    env.assert_gone(&id2);
}

#[test]
fn create_waits_for_start_then_state_follows_the_lifecycle() {
    let env = Env::new("lifecycle");
    let id = env.id("life");
    let b = env.bundle(
        &id,
        &["sh", "-c", "touch /tmp/started; exec sleep 30"],
        |c| {
            c["root"]["readonly"] = json!(false);
            c["annotations"] = json!({"org.example.key": "value"});
        },
    );
    let pidfile = env.dir.join("pid");
    env.brig(&[
        "create",
        "--bundle",
        b.to_str().unwrap(),
        "--pid-file",
        pidfile.to_str().unwrap(),
        &id,
    ])
    .ok();
    let st = env.state(&id).unwrap();
    assert_eq!(st["status"], "created");
    assert_eq!(st["id"], id.as_str());
    assert_eq!(st["ociVersion"], "1.3.0");
    assert_eq!(st["bundle"], b.to_str().unwrap());
    assert_eq!(st["rootfs"], b.join("rootfs").to_str().unwrap());
    assert_eq!(st["annotations"]["org.example.key"], "value");
    assert!(st["created"].as_str().unwrap().ends_with('Z'));
    let pid = st["pid"].as_i64().unwrap();
    assert!(pid > 0);
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap(), pid.to_string());
    // The process has not run yet.
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(
        !b.join("rootfs/tmp/started").exists(),
        "process ran before start"
    );
    env.brig(&["start", &id]).ok();
    assert_eq!(env.status(&id), "running");
    for _ in 0..200 {
        if b.join("rootfs/tmp/started").exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(b.join("rootfs/tmp/started").exists());
    env.brig(&["start", &id])
        .fails_with("cannot start container in state `running`");
    env.brig(&["delete", &id])
        .fails_with("cannot delete container in state `running`");
    env.brig(&["kill", &id, "TERM"]).ok();
    env.brig(&["kill", &id, "KILL"]).ok();
    env.wait_status(&id, "stopped");
    assert_eq!(env.state(&id).unwrap()["pid"], 0);
    env.brig(&["kill", &id, "TERM"])
        .fails_with("container not running");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
    env.brig(&["state", &id]).fails_with("does not exist");
}

#[test]
fn kill_accepts_names_prefixes_and_numbers() {
    let env = Env::new("kill");
    for sig in ["KILL", "SIGKILL", "9", "sigkill"] {
        let id = env.id("k");
        let b = env.bundle(&id, &["sleep", "30"], |_| {});
        env.create(&id, &b).ok();
        env.brig(&["start", &id]).ok();
        env.brig(&["kill", &id, sig]).ok();
        env.wait_status(&id, "stopped");
        env.brig(&["delete", &id]).ok();
        env.assert_gone(&id);
    }
    let id = env.id("kall");
    let b = env.bundle(&id, &["sh", "-c", "sleep 30 & sleep 30"], |_| {});
    env.create(&id, &b).ok();
    env.brig(&["start", &id]).ok();
    env.brig(&["kill", "--all", &id, "9"]).ok();
    env.wait_status(&id, "stopped");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn created_container_can_be_killed_or_deleted() {
    let env = Env::new("created");
    let id = env.id("c1");
    let b = env.bundle(&id, &["true"], |_| {});
    env.create(&id, &b).ok();
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
    let id = env.id("c2");
    let b = env.bundle(&id, &["true"], |_| {});
    env.create(&id, &b).ok();
    env.brig(&["kill", &id, "KILL"]).ok();
    env.wait_status(&id, "stopped");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn delete_force_kills_a_running_container_and_works_after_init_died() {
    let env = Env::new("force");
    let id = env.id("f");
    let b = env.bundle(&id, &["sleep", "30"], |_| {});
    env.create(&id, &b).ok();
    env.brig(&["start", &id]).ok();
    env.brig(&["delete", "--force", &id]).ok();
    env.assert_gone(&id);
    // The init exits on its own; delete still works (as after an OOM kill or a crash).
    let id = env.id("g");
    let b = env.bundle(&id, &["true"], |_| {});
    env.create(&id, &b).ok();
    env.brig(&["start", &id]).ok();
    env.wait_status(&id, "stopped");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
    // --force on an unknown container succeeds silently, as runc's does.
    env.brig(&["delete", "--force", "never-existed"]).ok();
}

#[test]
fn run_detach_and_list() {
    let env = Env::new("list");
    let id = env.id("l");
    let b = env.bundle(&id, &["sleep", "30"], |_| {});
    env.brig(&["run", "--detach", "--bundle", b.to_str().unwrap(), &id])
        .ok();
    let pid = env.state(&id).unwrap()["pid"].as_i64().unwrap();
    let table = env.brig(&["list"]);
    table.ok();
    let mut lines = table.stdout.lines();
    assert!(lines.next().unwrap().starts_with("ID"));
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(row[..3], [id.as_str(), &pid.to_string(), "running"]);
    let q = env.brig(&["list", "-q"]);
    assert_eq!(q.stdout, format!("{id}\n"));
    let j: Value = serde_json::from_str(&env.brig(&["list", "--format", "json"]).stdout).unwrap();
    assert_eq!(j[0]["id"], id.as_str());
    assert_eq!(j[0]["status"], "running");
    env.brig(&["delete", "-f", &id]).ok();
    assert_eq!(env.brig(&["list", "--format=json"]).stdout, "null\n");
    env.assert_gone(&id);
}

#[test]
fn spec_writes_runc_compatible_default_and_refuses_to_overwrite() {
    let env = Env::new("spec");
    let d = env.dir.join("specdir");
    std::fs::create_dir_all(&d).unwrap();
    env.brig(&["spec", "--bundle", d.to_str().unwrap()]).ok();
    let ours: Value =
        serde_json::from_slice(&std::fs::read(d.join("config.json")).unwrap()).unwrap();
    assert_eq!(ours["process"]["args"], json!(["sh"]));
    assert_eq!(ours["root"]["path"], "rootfs");
    // Same shape as runc's: identical keys and mounts.
    if let Ok(out) = std::process::Command::new("runc")
        .arg("spec")
        .arg("--bundle")
        .arg(env.dir.join("rs"))
        .output()
    {
        if out.status.success() {
            let theirs: Value =
                serde_json::from_slice(&std::fs::read(env.dir.join("rs/config.json")).unwrap())
                    .unwrap();
            assert_eq!(ours["mounts"], theirs["mounts"]);
            assert_eq!(ours["linux"], theirs["linux"]);
            assert_eq!(ours["process"], theirs["process"]);
        }
    }
    env.brig(&["spec", "--bundle", d.to_str().unwrap()])
        .fails_with("exists");
    let r = env.dir.join("rootless");
    std::fs::create_dir_all(&r).unwrap();
    env.brig(&["spec", "--rootless", "--bundle", r.to_str().unwrap()])
        .ok();
    let rl: Value = serde_json::from_slice(&std::fs::read(r.join("config.json")).unwrap()).unwrap();
    assert!(rl["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["type"] == "user"));
}

#[test]
fn the_default_spec_runs() {
    let env = Env::new("default-spec");
    let id = env.id("def");
    let b = env.bundle(&id, &["sh", "-c", "echo ok"], |_| {});
    let r = env.run(&id, &b);
    r.ok();
    assert_eq!(r.stdout, "ok\n");
}

#[test]
fn version_prints_three_lines() {
    let env = Env::new("version");
    let r = env.brig(&["--version"]);
    r.ok();
    let lines: Vec<_> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("brig version "));
    assert!(lines[1].starts_with("commit: "));
    assert!(lines[2].starts_with("spec: 1."));
}

fn hook(path: &str, script: &str) -> Value {
    json!({"path": "/bin/sh", "args": ["sh", "-c", script, path]})
}

#[test]
fn hooks_run_in_order_with_state_on_stdin() {
    let env = Env::new("hooks");
    let id = env.id("h");
    let log = env.dir.join("hooks.log");
    let l = log.display().to_string();
    let rec = |name: &str| hook(name, &format!("read -r s; echo \"{name} $s\" >> {l}"));
    let b = env.bundle(&id, &["sh", "-c", "echo main >> /hooklog"], |c| {
        c["hooks"] = json!({
            "prestart": [rec("prestart")],
            "createRuntime": [rec("createRuntime")],
            "createContainer": [rec("createContainer")],
            "startContainer": [hook("startContainer", "echo startContainer >> /hooklog")],
            "poststart": [rec("poststart")],
            "poststop": [rec("poststop")],
        });
        c["root"]["readonly"] = json!(false);
    });
    env.create(&id, &b).ok();
    env.brig(&["start", &id]).ok();
    env.wait_status(&id, "stopped");
    env.brig(&["delete", &id]).ok();
    let text = std::fs::read_to_string(&log).unwrap();
    let names: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "poststart",
            "poststop"
        ],
        "{text}"
    );
    for line in text.lines() {
        let (name, json) = line.split_once(' ').unwrap();
        let st: Value =
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}: {json}"));
        assert_eq!(st["id"], id.as_str(), "{name}");
        let want = match name {
            "prestart" | "createRuntime" | "createContainer" => "creating",
            "poststart" => "running",
            _ => "stopped",
        };
        assert_eq!(st["status"], want, "{name}");
        if name != "poststop" {
            assert!(st["pid"].as_i64().unwrap() > 0, "{name}: {json}");
        }
    }
    // startContainer runs inside the container, before the program.
    assert_eq!(
        std::fs::read_to_string(b.join("rootfs/hooklog")).unwrap(),
        "startContainer\nmain\n"
    );
    env.assert_gone(&id);
}

#[test]
fn failing_hooks_fail_the_right_step() {
    let env = Env::new("hookfail");
    for kind in ["prestart", "createRuntime", "createContainer"] {
        let id = env.id("hf");
        let b = env.bundle(&id, &["true"], |c| {
            c["hooks"] = json!({ kind: [hook(kind, "exit 7")] })
        });
        env.create(&id, &b)
            .fails_with(&format!("hooks.{kind}[0] `/bin/sh`: exited with status 7"));
        env.assert_gone(&id);
    }
    // poststart and poststop failures only warn.
    let id = env.id("hw");
    let b = env.bundle(
        &id,
        &["true"],
        |c| {
            c["hooks"] =
                json!({"poststart": [hook("p", "exit 1")], "poststop": [hook("p", "exit 1")]})
        },
    );
    env.create(&id, &b).ok();
    let r = env.brig(&["start", &id]);
    r.ok();
    assert!(r.stderr.contains("hooks.poststart[0]"), "{}", r.stderr);
    env.wait_status(&id, "stopped");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn state_json_has_the_same_keys_as_runc() {
    let env = Env::new("state-keys");
    let id = env.id("sk");
    let b = env.bundle(&id, &["sleep", "30"], |_| {});
    env.create(&id, &b).ok();
    let ours = env.state(&id).unwrap();
    let mut keys: Vec<_> = ours.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "bundle",
            "created",
            "id",
            "ociVersion",
            "owner",
            "pid",
            "rootfs",
            "status"
        ]
    );
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}
