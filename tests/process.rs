//! Process attributes seen from inside: user, groups, umask, caps, rlimits, no_new_privs,
//! oom_score_adj, env, cwd, hostname/domainname, console, preserved and leaked fds.

use brig_tests::*;
use serde_json::json;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn run_sh(env: &Env, name: &str, script: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Run {
    let id = env.id(name);
    let b = env.bundle(&id, &["sh", "-c", script], edit);
    let r = env.run(&id, &b);
    env.assert_gone(&id);
    r
}

#[test]
fn user_groups_and_umask() {
    let env = Env::new("user");
    let r = run_sh(&env, "u", "id -u; id -g; id -G; umask", |c| {
        c["process"]["user"] =
            json!({"uid": 65534, "gid": 65534, "additionalGids": [5, 10], "umask": 63});
    });
    r.ok();
    assert_eq!(r.stdout, "65534\n65534\n65534 5 10\n0077\n");
}

#[test]
fn capability_sets_match_runc() {
    // The kernel's exec rules make the sets after exec depend on the uid: compare with runc.
    let env = Env::new("caps");
    for uid in [0, 1000] {
        let edit = |c: &mut serde_json::Value| {
            c["process"]["capabilities"] = json!({
                "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
                "effective": ["CAP_CHOWN"],
                "permitted": ["CAP_CHOWN", "CAP_KILL"],
                "inheritable": ["CAP_KILL"],
                "ambient": ["CAP_KILL"]
            });
            c["process"]["user"] = json!({"uid": uid, "gid": uid});
            c["process"]["noNewPrivileges"] = json!(false);
        };
        let ours = run_sh(&env, "c", "grep ^Cap /proc/self/status", edit);
        ours.ok();
        let id = env.id("runc-caps");
        let b = env.bundle(&id, &["sh", "-c", "grep ^Cap /proc/self/status"], edit);
        let theirs = runc(&env, &["run", "--bundle", b.to_str().unwrap(), &id]);
        assert_eq!(ours.stdout, theirs.stdout, "uid {uid}: brig vs runc");
        if uid == 1000 {
            // Only the ambient cap survives exec for a non-root user.
            assert!(
                ours.stdout
                    .contains(&format!("CapEff:\t{:016x}", 1u64 << 5)),
                "{}",
                ours.stdout
            );
        }
    }
}

/// Run the reference runtime (runc from Debian) with its own state root under the test dir.
pub fn runc(env: &Env, args: &[&str]) -> Run {
    let mut c = std::process::Command::new("runc");
    c.arg("--root")
        .arg(env.dir.join("runc-state"))
        .args(args)
        .stdin(std::process::Stdio::null());
    let r = env.output(&mut c);
    assert_eq!(r.code, 0, "runc {args:?} failed: {}", r.stderr);
    r
}

#[test]
fn rlimits_nnp_and_oom_score() {
    let env = Env::new("limits");
    let r = run_sh(
        &env,
        "r",
        "ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj",
        |c| {
            c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}]);
            c["process"]["oomScoreAdj"] = json!(500);
        },
    );
    r.ok();
    assert_eq!(r.stdout, "123\n456\nNoNewPrivs:\t1\n500\n");
    let r = run_sh(&env, "n", "grep NoNewPrivs /proc/self/status", |c| {
        c["process"]["noNewPrivileges"] = json!(false)
    });
    assert_eq!(r.stdout, "NoNewPrivs:\t0\n");
    // A soft limit above the hard one is a config error.
    let id = env.id("bad");
    let b = env.bundle(&id, &["true"], |c| {
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 5}])
    });
    env.create(&id, &b)
        .fails_with("process.rlimits (RLIMIT_NOFILE): soft limit 10 is above hard limit 5");
    env.assert_gone(&id);
}

#[test]
fn env_cwd_hostname_domainname() {
    let env = Env::new("env");
    let r = run_sh(
        &env,
        "e",
        "echo $FOO; pwd; hostname; cat /proc/sys/kernel/domainname; echo $HOME",
        |c| {
            c["process"]["env"] = json!(["PATH=/bin", "FOO=bar baz"]);
            c["process"]["cwd"] = json!("/work/dir");
            c["hostname"] = json!("box");
            c["domainname"] = json!("example.org");
            c["root"]["readonly"] = json!(false);
        },
    );
    r.ok();
    assert_eq!(r.stdout, "bar baz\n/work/dir\nbox\nexample.org\n/root\n");
}

#[test]
fn pid_one_in_a_new_pid_namespace() {
    let env = Env::new("pidns");
    let r = run_sh(&env, "p", "echo $$; readlink /proc/self/ns/pid", |_| {});
    r.ok();
    let mut l = r.stdout.lines();
    assert_eq!(l.next(), Some("1"));
    let host = std::fs::read_link("/proc/self/ns/pid").unwrap();
    assert_ne!(l.next().unwrap(), host.to_str().unwrap());
}

#[test]
fn no_fd_of_brig_or_the_caller_leaks_and_preserve_fds_passes_them() {
    let env = Env::new("fds");
    let id = env.id("leak");
    let b = env.bundle(&id, &["ls", "/proc/self/fd"], |_| {});
    // An extra inherited fd 3 (like containerd-shim's socket) without --preserve-fds.
    let (r, w) = nix::unistd::pipe().unwrap();
    let mut cmd = env.cmd();
    cmd.args(["run", "--bundle", b.to_str().unwrap(), &id]);
    let raw = r.as_raw_fd();
    // SAFETY: dup2 in the child between fork and exec; async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            libc::dup2(raw, 3);
            Ok(())
        });
    }
    let out = env.output(&mut cmd);
    out.ok();
    // ls itself opens one fd for the directory it lists (3).
    assert_eq!(
        out.stdout.split_whitespace().collect::<Vec<_>>(),
        ["0", "1", "2", "3"],
        "{}",
        out.stdout
    );
    env.assert_gone(&id);
    // With --preserve-fds 1, fd 3 is the pipe.
    let id = env.id("keep");
    let b = env.bundle(&id, &["sh", "-c", "echo through-fd3 >&3"], |_| {});
    let mut cmd = env.cmd();
    cmd.args([
        "run",
        "--preserve-fds",
        "1",
        "--bundle",
        b.to_str().unwrap(),
        &id,
    ]);
    let wraw = w.as_raw_fd();
    // SAFETY: as above.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            libc::dup2(wraw, 3);
            Ok(())
        });
    }
    env.output(&mut cmd).ok();
    drop(w);
    let mut buf = String::new();
    std::io::Read::read_to_string(&mut std::fs::File::from(r), &mut buf).unwrap();
    assert_eq!(buf, "through-fd3\n");
    env.assert_gone(&id);
}

#[test]
fn console_socket_receives_a_pty_master() {
    use std::os::unix::net::UnixListener;
    let env = Env::new("console");
    let id = env.id("tty");
    let sock = env.dir.join("console.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let b = env.bundle(
        &id,
        &["sh", "-c", "tty; test -t 0 && echo stdin-is-tty"],
        |c| c["process"]["terminal"] = json!(true),
    );
    let r = env.brig(&[
        "create",
        "--bundle",
        b.to_str().unwrap(),
        "--console-socket",
        sock.to_str().unwrap(),
        &id,
    ]);
    r.ok();
    let (conn, _) = listener.accept().unwrap();
    let master = recv_fd(conn.as_raw_fd());
    // SAFETY: isatty on an fd we own.
    assert_eq!(unsafe { libc::isatty(master.as_raw_fd()) }, 1);
    env.brig(&["start", &id]).ok();
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match nix::unistd::read(&master, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("/dev/pts/0"), "{text}");
    assert!(text.contains("stdin-is-tty"), "{text}");
    env.wait_status(&id, "stopped");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

fn recv_fd(sock: i32) -> OwnedFd {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};
    let mut buf = [0u8; 256];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(sock, &mut iov, Some(&mut space), MsgFlags::empty()).unwrap();
    for c in msg.cmsgs().unwrap() {
        if let ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: the kernel gave us this fd.
            return unsafe { OwnedFd::from_raw_fd(fds[0]) };
        }
    }
    panic!("no fd received");
}

#[test]
fn create_does_not_keep_the_console_socket_open() {
    use std::os::unix::net::UnixListener;
    let env = Env::new("console-close");
    let id = env.id("cc");
    let sock = env.dir.join("c.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let b = env.bundle(&id, &["true"], |c| c["process"]["terminal"] = json!(true));
    env.brig(&[
        "create",
        "--bundle",
        b.to_str().unwrap(),
        "--console-socket",
        sock.to_str().unwrap(),
        &id,
    ])
    .ok();
    let (mut conn, _) = listener.accept().unwrap();
    let _master = recv_fd(conn.as_raw_fd());
    // Every other holder has closed its end: reading gives EOF, not a hang.
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut conn, &mut rest).expect("console socket still held open");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}
