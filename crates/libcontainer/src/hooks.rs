//! OCI hooks: run one program with the container state JSON on stdin, its env and args, and a
//! timeout. Where each kind runs (runtime or container namespace) is the caller's business.

use oci_spec::runtime::Hook;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("hooks.{kind}[{index}] `{path}`: {why}")]
    Failed {
        kind: &'static str,
        index: usize,
        path: String,
        why: String,
    },
}

/// Run `hooks` in order; the first failure stops the run and is returned.
pub fn run_all(kind: &'static str, hooks: &[Hook], state_json: &[u8]) -> Result<(), HookError> {
    for (index, hook) in hooks.iter().enumerate() {
        run(hook, state_json).map_err(|why| HookError::Failed {
            kind,
            index,
            path: hook.path().display().to_string(),
            why,
        })?;
    }
    Ok(())
}

/// Run every hook, returning the failures as warnings (poststart, poststop).
pub fn run_all_warn(kind: &'static str, hooks: &[Hook], state_json: &[u8]) -> Vec<String> {
    hooks
        .iter()
        .enumerate()
        .filter_map(|(index, hook)| {
            run(hook, state_json).err().map(|why| {
                HookError::Failed {
                    kind,
                    index,
                    path: hook.path().display().to_string(),
                    why,
                }
                .to_string()
            })
        })
        .collect()
}

fn run(hook: &Hook, state_json: &[u8]) -> Result<(), String> {
    let mut cmd = Command::new(hook.path());
    if let Some(args) = hook.args() {
        if let Some((argv0, rest)) = args.split_first() {
            cmd.arg0(argv0).args(rest);
        }
    }
    cmd.env_clear();
    for kv in hook.env().iter().flatten() {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| format!("start: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that exits without reading its stdin is fine: ignore EPIPE.
        let _ = stdin.write_all(state_json);
    }
    let deadline = hook
        .timeout()
        .filter(|t| *t > 0)
        .map(|t| Instant::now() + Duration::from_secs(t as u64));
    let mut nap = Duration::from_micros(200);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) => {}
            Err(e) => return Err(format!("wait: {e}")),
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {}s", hook.timeout().unwrap_or(0)));
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    };
    match (status.code(), status.signal()) {
        (Some(0), _) => Ok(()),
        (Some(code), _) => Err(format!("exited with status {code}")),
        (_, Some(sig)) => Err(format!("killed by signal {sig}")),
        _ => Err("ended abnormally".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(json: &str) -> Hook {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn state_on_stdin_env_args_and_failures() {
        let tmp = crate::testutil::TempDir::new("hook-test");
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let h = hook(&format!(
            r#"{{"path":"/bin/sh","args":["sh","-c","cat > {0}; echo \"$FOO $0\" >> {0}","argzero"],"env":["FOO=bar"]}}"#,
            out.display()
        ));
        run_all("prestart", &[h], b"{\"id\":\"x\"}").unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "{\"id\":\"x\"}bar argzero\n"
        );
        let bad = hook(r#"{"path":"/bin/sh","args":["sh","-c","exit 3"]}"#);
        let e = run_all("createRuntime", &[bad], b"").unwrap_err();
        assert_eq!(
            e.to_string(),
            "hooks.createRuntime[0] `/bin/sh`: exited with status 3"
        );
        let slow = hook(r#"{"path":"/bin/sh","args":["sh","-c","sleep 5"],"timeout":1}"#);
        let t = Instant::now();
        let e = run_all("prestart", &[slow], b"").unwrap_err();
        assert!(
            e.to_string().ends_with("timed out after 1s") && t.elapsed() < Duration::from_secs(3)
        );
        let missing = hook(r#"{"path":"/nonexistent/hook"}"#);
        assert!(run_all_warn("poststop", &[missing], b"")[0].contains("start:"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
