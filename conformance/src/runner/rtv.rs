//! Folds the upstream runtime-tools validation programs (`validation/*.t`) into the report.
//!
//! Each executable `*.t` under DIR runs with `RUNTIME` set, from DIR's parent (the runtime-tools
//! checkout, where the programs expect `rootfs-*.tar.gz`), with a 120 s timeout. Its TAP points
//! become checks `rtv/<file>/<description>`.

use crate::report::CaseResult;
use brig_conformance::tap::{self, Tap};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn run(dir: &str, runtime: &Path, tmp: &Path) -> Vec<CaseResult> {
    let mut progs: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.extension().map(|x| x == "t").unwrap_or(false)).collect())
        .unwrap_or_default();
    progs.retain(|p| std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false));
    progs.sort();
    let cwd = Path::new(dir).parent().map(Path::to_path_buf).unwrap_or_else(|| ".".into());
    let mut out = Vec::new();
    for p in progs {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let t0 = Instant::now();
        let mut t = Tap::silent();
        let outf = tmp.join(format!("rtv-{name}.out"));
        let res = std::fs::File::create(&outf).and_then(|f| {
            let mut child = Command::new(&p).env("RUNTIME", runtime).current_dir(&cwd).stdin(Stdio::null()).stdout(f).stderr(Stdio::null()).spawn()?;
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                if let Some(st) = child.try_wait()? {
                    return Ok(st.code());
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Ok(None);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let text = std::fs::read_to_string(&outf).unwrap_or_default();
        let mut seen = std::collections::HashMap::new();
        for c in tap::parse(&text) {
            let n = seen.entry(c.id.clone()).or_insert(0);
            *n += 1;
            let id = if *n > 1 { format!("{} ({})", c.id, n) } else { c.id };
            t.record(id, c.outcome);
        }
        match res {
            Ok(Some(_)) if !t.checks.is_empty() => {}
            Ok(code) => t.fail("ran", format!("no TAP output (exit {code:?})")),
            Err(e) => t.fail("ran", e.to_string()),
        }
        let r = CaseResult { id: format!("rtv/{name}"), checks: t.checks, secs: t0.elapsed().as_secs_f64() };
        crate::report::print_case(&r);
        out.push(r);
    }
    out
}
