//! The report: a per-case table, the expected-pass gate and the final `N passed, M failed`.

use brig_conformance::tap::{Check, Outcome};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// Checks of one case (ids without the case prefix).
pub struct CaseResult {
    pub id: String,
    pub checks: Vec<Check>,
    pub secs: f64,
}

fn counts(c: &CaseResult) -> (usize, usize, usize) {
    let p = c.checks.iter().filter(|x| x.outcome == Outcome::Pass).count();
    let f = c.checks.iter().filter(|x| matches!(x.outcome, Outcome::Fail(_))).count();
    (p, f, c.checks.len() - p - f)
}

/// One table row, then one indented line per failed check.
pub fn print_case(c: &CaseResult) {
    let (p, f, s) = counts(c);
    let skip = if s > 0 { format!(" {s:>3} skipped") } else { String::new() };
    println!("{:<44} {:>4} passed {:>3} failed{skip}  {:>5.2}s", c.id, p, f, c.secs);
    for x in &c.checks {
        if let Outcome::Fail(why) = &x.outcome {
            let why: String = why.chars().take(400).collect();
            println!("    not ok {}/{} # {}", c.id, x.id, why);
        }
    }
}

/// Prints the summary, applies `--expect` and writes `--write-expected`; returns the exit code.
pub fn finish(results: &[CaseResult], runtime: &str, took: Duration, expect: Option<&Path>, write: Option<&Path>) -> i32 {
    let mut passed = BTreeSet::new();
    let mut failed = BTreeSet::new();
    let mut skipped = 0;
    let mut all = BTreeSet::new();
    for c in results {
        for x in &c.checks {
            let id = format!("{}/{}", c.id, x.id);
            all.insert(id.clone());
            match x.outcome {
                Outcome::Pass => {
                    passed.insert(id);
                }
                Outcome::Fail(_) => {
                    failed.insert(id);
                }
                Outcome::Skip(_) => skipped += 1,
            }
        }
    }
    println!();
    println!("runtime {runtime}: {} cases, {} distinct checks, {skipped} skipped, {:.1}s", results.len(), all.len(), took.as_secs_f64());
    let mut code = if failed.is_empty() { 0 } else { 1 };
    if let Some(path) = write {
        let text: String = passed.iter().map(|id| format!("{id}\n")).collect();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }
    if let Some(path) = expect {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                // Only checks of the cases that ran (--filter narrows the run, not the gate).
                let ran: Vec<String> = results.iter().map(|c| format!("{}/", c.id)).collect();
                let want: Vec<&str> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .filter(|l| ran.iter().any(|r| l.starts_with(r.as_str())))
                    .collect();
                let regressions: Vec<&&str> = want.iter().filter(|id| !passed.contains(**id)).collect();
                for id in &regressions {
                    let why = if failed.contains(**id) { "failed" } else { "not run" };
                    println!("REGRESSION {id} ({why}; listed in {})", path.display());
                }
                let allowed = failed.iter().filter(|id| !want.contains(&id.as_str())).count();
                println!("expect {}: {} listed, {} regressions, {allowed} failures not listed (allowed)", path.display(), want.len(), regressions.len());
                code = if regressions.is_empty() { 0 } else { 1 };
            }
            Err(e) => {
                println!("cannot read expected-pass list {}: {e}", path.display());
                code = 2;
            }
        }
    }
    println!("{} passed, {} failed", passed.len(), failed.len());
    code
}

/// One TSV line per check: case, check, pass/fail/skip, reason.
pub fn write_results(path: &Path, results: &[CaseResult]) {
    let mut out = String::new();
    for c in results {
        for x in &c.checks {
            let (o, why) = match &x.outcome {
                Outcome::Pass => ("pass", String::new()),
                Outcome::Fail(w) => ("fail", w.replace(['\t', '\n'], " ")),
                Outcome::Skip(w) => ("skip", w.replace(['\t', '\n'], " ")),
            };
            out.push_str(&format!("{}\t{}\t{o}\t{why}\n", c.id, x.id));
        }
    }
    if let Err(e) = std::fs::write(path, out) {
        eprintln!("cannot write {}: {e}", path.display());
    }
}
