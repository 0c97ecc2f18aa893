//! Bad input: each gets one clear error line, a non-zero exit, and leaves nothing behind.

use brig_tests::*;
use serde_json::{json, Value};

#[test]
fn missing_bundle_config_and_rootfs() {
    let env = Env::new("err-bundle");
    let id = env.id("mb");
    env.brig(&["create", "--bundle", "/nonexistent/bundle", &id])
        .fails_with("bundle `/nonexistent/bundle`: No such file");
    env.assert_gone(&id);
    let b = env.bundle(&id, &["true"], |_| {});
    std::fs::remove_file(b.join("config.json")).unwrap();
    env.create(&id, &b).fails_with("config.json`: No such file");
    env.assert_gone(&id);
    let b = env.bundle(&id, &["true"], |c| c["root"]["path"] = json!("nope"));
    env.create(&id, &b).fails_with("config.json: root.path: ");
    env.assert_gone(&id);
}

#[test]
fn malformed_config_names_the_field() {
    let env = Env::new("err-malformed");
    let id = env.id("mf");
    let b = env.bundle(&id, &["true"], |_| {});
    std::fs::write(b.join("config.json"), "{ not json").unwrap();
    env.create(&id, &b).fails_with("field `(document)`");
    let b = env.bundle(&id, &["true"], |c| c["process"]["args"] = json!("sh"));
    env.create(&id, &b)
        .fails_with("field `process.args`: invalid type: string \"sh\", expected a sequence");
    let b = env.bundle(&id, &["true"], |c| {
        c["linux"]["namespaces"] = json!([{"type": "bogus"}])
    });
    env.create(&id, &b)
        .fails_with("field `linux.namespaces[0].type`");
    env.assert_gone(&id);
}

#[test]
fn unsupported_version_and_empty_args() {
    let env = Env::new("err-version");
    let id = env.id("v");
    let b = env.bundle(&id, &["true"], |c| c["ociVersion"] = json!("2.0.0"));
    env.create(&id, &b)
        .fails_with("ociVersion: unsupported version `2.0.0`");
    let b = env.bundle(&id, &["true"], |c| c["process"]["args"] = json!([]));
    env.create(&id, &b)
        .fails_with("process.args: must name at least the program to run");
    env.assert_gone(&id);
}

#[test]
fn program_not_found_fails_create() {
    let env = Env::new("err-notfound");
    let id = env.id("nf");
    let b = env.bundle(&id, &["no-such-program"], |_| {});
    env.create(&id, &b)
        .fails_with("exec: `no-such-program`: executable file not found in $PATH");
    env.assert_gone(&id);
    let b = env.bundle(&id, &["/etc/passwd"], |_| {});
    env.create(&id, &b)
        .fails_with("exec: `/etc/passwd`: permission denied");
    env.assert_gone(&id);
    // A path is not searched in $PATH: the message says the file is missing (podman maps
    // "no such file or directory" to exit status 127).
    let b = env.bundle(&id, &["/no/such/exe"], |_| {});
    env.create(&id, &b)
        .fails_with("exec: `/no/such/exe`: stat /no/such/exe: no such file or directory");
    env.assert_gone(&id);
    // `run` of a missing program: non-zero and the same message.
    let b = env.bundle(&id, &["no-such-program"], |_| {});
    env.run(&id, &b).fails_with("executable file not found");
    env.assert_gone(&id);
}

#[test]
fn duplicate_unknown_and_invalid_ids() {
    let env = Env::new("err-ids");
    let id = env.id("dup");
    let b = env.bundle(&id, &["sleep", "30"], |_| {});
    env.create(&id, &b).ok();
    env.create(&id, &b)
        .fails_with(&format!("container with id `{id}` already exists"));
    // The first container is untouched by the failed duplicate.
    assert_eq!(env.status(&id), "created");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
    for cmd in ["state", "start", "kill", "delete"] {
        env.brig(&[cmd, "no-such-ctr"])
            .fails_with("container `no-such-ctr` does not exist");
    }
    for bad in ["../evil", "a/b", ".hidden"] {
        env.brig(&["create", "--bundle", b.to_str().unwrap(), bad])
            .fails_with("invalid container id");
        env.brig(&["state", bad]).fails_with("invalid container id");
    }
    assert!(!env.dir.join("evil").exists());
}

#[test]
fn bad_signal_and_bad_flags() {
    let env = Env::new("err-signal");
    let id = env.id("bs");
    let b = env.bundle(&id, &["sleep", "30"], |_| {});
    env.create(&id, &b).ok();
    env.brig(&["kill", &id, "SIGNOPE"])
        .fails_with("invalid signal `SIGNOPE`");
    env.brig(&["kill", &id, "0"])
        .fails_with("invalid signal `0`");
    assert_eq!(env.status(&id), "created");
    env.brig(&["create", "--no-such-flag", &id])
        .fails_with("--no-such-flag");
    env.brig(&["--log-format", "yaml", "state", &id])
        .fails_with("yaml");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn console_socket_errors() {
    let env = Env::new("err-console");
    let id = env.id("cs");
    let b = env.bundle(&id, &["true"], |c| c["process"]["terminal"] = json!(true));
    env.brig(&[
        "create",
        "--bundle",
        b.to_str().unwrap(),
        "--console-socket",
        "/nonexistent/sock",
        &id,
    ])
    .fails_with("console socket `/nonexistent/sock`");
    env.assert_gone(&id);
    env.create(&id, &b)
        .fails_with("--console-socket is required");
    env.assert_gone(&id);
}

#[test]
fn start_twice_and_kill_stopped() {
    let env = Env::new("err-twice");
    let id = env.id("st");
    let b = env.bundle(&id, &["true"], |_| {});
    env.create(&id, &b).ok();
    env.brig(&["start", &id]).ok();
    env.wait_status(&id, "stopped");
    env.brig(&["start", &id])
        .fails_with("cannot start container in state `stopped`");
    env.brig(&["kill", &id, "KILL"])
        .fails_with("container not running");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn errors_go_to_the_json_log_as_one_record() {
    let env = Env::new("err-log");
    let log = env.dir.join("log.json");
    let r = env.brig(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "state",
        "ghost",
    ]);
    r.fails_with("does not exist");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let rec: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(rec["level"], "error");
    assert!(rec["msg"]
        .as_str()
        .unwrap()
        .contains("container `ghost` does not exist"));
    assert!(rec["time"].as_str().unwrap().ends_with('Z'));
    // The `=` form that conmon uses works too.
    let log2 = env.dir.join("log2.json");
    env.brig(&[
        "--log-format=json",
        "--log",
        log2.to_str().unwrap(),
        "kill",
        "ghost",
        "9",
    ])
    .fails_with("does not exist");
    assert_eq!(std::fs::read_to_string(&log2).unwrap().lines().count(), 1);
}

#[test]
fn failed_create_leaves_no_cgroup_mount_or_process() {
    let env = Env::new("err-cleanup");
    let id = env.id("cl");
    // Fails late: after the cgroup, the clone and the mounts.
    let b = env.bundle(&id, &["true"], |c| {
        c["mounts"].as_array_mut().unwrap().push(json!({"destination": "/x", "type": "bind", "source": "/nonexistent-src", "options": ["bind"]}));
    });
    env.create(&id, &b)
        .fails_with("mounts[7] (destination `/x`)");
    env.assert_gone(&id);
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(env.dir.to_str().unwrap()),
        "mount left behind"
    );
}

#[test]
fn a_memory_limit_too_low_to_start_says_so() {
    let env = Env::new("err-oom");
    let id = env.id("oom");
    // The init runs in its cgroup, limits applied, from its first instruction: one page cannot
    // hold its setup, and the kernel's OOM killer ends it.
    let b = env.bundle(&id, &["true"], |c| {
        c["linux"]["resources"]["memory"] = json!({"limit": 4096, "swap": 4096})
    });
    env.create(&id, &b).fails_with(
        "container init was killed by the OOM killer before it was ready: \
         linux.resources.memory.limit is below what the container needs to start",
    );
    env.assert_gone(&id);
}
