//! TAP: the checker writes it, the runner parses it (its own and runtime-tools' `validation/*.t`).

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    /// Not applicable on this host or for this config; counts neither way.
    Skip(String),
}

/// One named check result.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub outcome: Outcome,
}

/// Collects checks and prints them as TAP as they come.
#[derive(Default)]
pub struct Tap {
    n: usize,
    pub checks: Vec<Check>,
    quiet: bool,
}

impl Tap {
    pub fn new() -> Tap {
        Tap::default()
    }

    /// A collector that records without printing (the runner's own checks).
    pub fn silent() -> Tap {
        Tap { quiet: true, ..Tap::default() }
    }

    pub fn record(&mut self, id: impl Into<String>, outcome: Outcome) {
        let id = id.into();
        self.n += 1;
        if !self.quiet {
            println!("{}", line(self.n, &id, &outcome));
        }
        self.checks.push(Check { id, outcome });
    }

    pub fn pass(&mut self, id: impl Into<String>) {
        self.record(id, Outcome::Pass);
    }

    pub fn fail(&mut self, id: impl Into<String>, why: impl Into<String>) {
        self.record(id, Outcome::Fail(why.into()));
    }

    pub fn skip(&mut self, id: impl Into<String>, why: impl Into<String>) {
        self.record(id, Outcome::Skip(why.into()));
    }

    /// Passes when `ok`, else fails with `why()`.
    pub fn check(&mut self, id: impl Into<String>, ok: bool, why: impl FnOnce() -> String) {
        if ok {
            self.pass(id)
        } else {
            self.fail(id, why())
        }
    }

    /// Passes when `got == want`, else fails with both shown.
    pub fn eq<T: PartialEq + std::fmt::Debug>(&mut self, id: impl Into<String>, got: T, want: T) {
        let ok = got == want;
        self.check(id, ok, || format!("got {got:?}, want {want:?}"))
    }

    pub fn plan(&self) {
        if !self.quiet {
            println!("1..{}", self.n);
        }
    }
}

/// Formats one TAP line; reasons are kept on one line.
pub fn line(n: usize, id: &str, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Pass => format!("ok {n} - {id}"),
        Outcome::Fail(why) => format!("not ok {n} - {id} # {}", one_line(why)),
        Outcome::Skip(why) => format!("ok {n} - {id} # SKIP {}", one_line(why)),
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " | ")
}

/// Parses TAP text into checks. Lines that are not test points are ignored; `# TODO` counts as a
/// skip. Test points without a description get `#<n>`.
pub fn parse(text: &str) -> Vec<Check> {
    let mut out = Vec::new();
    for raw in text.lines() {
        let l = raw.trim_start();
        let (ok, rest) = if let Some(r) = l.strip_prefix("not ok") {
            (false, r)
        } else if let Some(r) = l.strip_prefix("ok") {
            (true, r)
        } else {
            continue;
        };
        let rest = rest.trim_start();
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let rest = rest[digits.len()..].trim_start();
        let rest = rest.strip_prefix('-').unwrap_or(rest).trim();
        let (desc, directive) = match rest.find(" # ") {
            Some(i) => (rest[..i].trim(), Some(rest[i + 3..].trim())),
            None => match rest.strip_prefix("# ") {
                Some(d) => ("", Some(d.trim())),
                None => (rest, None),
            },
        };
        let id = if desc.is_empty() { format!("#{digits}") } else { desc.to_string() };
        let upper = directive.map(|d| d.to_ascii_uppercase());
        let outcome = match (&upper, ok) {
            (Some(d), _) if d.starts_with("SKIP") || d.starts_with("TODO") => Outcome::Skip(directive.unwrap_or("").to_string()),
            (_, true) => Outcome::Pass,
            (_, false) => Outcome::Fail(directive.unwrap_or("").to_string()),
        };
        out.push(Check { id, outcome });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_points_and_directives() {
        let c = parse("1..4\nok 1 - a.b\nnot ok 2 - c # got 1, want 2\nok 3 - d # SKIP no proc\nnot ok 4\n# comment\n");
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].id, "a.b");
        assert_eq!(c[0].outcome, Outcome::Pass);
        assert_eq!(c[1].outcome, Outcome::Fail("got 1, want 2".into()));
        assert!(matches!(c[2].outcome, Outcome::Skip(_)));
        assert_eq!(c[3].id, "#4");
    }
}
