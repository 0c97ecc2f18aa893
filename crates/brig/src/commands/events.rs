//! `brig events [--stats] [--interval D] ID`: runc's event stream, one JSON object per line.
//!
//! `{"type":"stats","id":ID,"data":{...}}` every interval (default 5s) and `{"type":"oom","id":ID}`
//! on each OOM, until the container stops; `--stats` prints one stats event and exits.

use super::Outcome;
use crate::Ctx;
use std::io::Write;
use std::time::Duration;

/// Display container events: OOM notifications and cgroup statistics
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Stats collection interval, a Go duration such as 5s, 500ms or 1m30s
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Display the container's stats once, then exit
    #[arg(long)]
    pub stats: bool,
    pub id: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    if args.interval.is_zero() {
        return Err(format!(
            "events {}: duration interval must be greater than 0",
            args.id
        ));
    }
    let stdout = std::io::stdout();
    let mut emit = |e: &libcontainer::container::Event| {
        if let Ok(line) = serde_json::to_string(e) {
            let mut out = stdout.lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    };
    libcontainer::container::events(
        &ctx.root,
        &args.id,
        args.interval,
        args.stats,
        &mut emit,
        &|level, msg| ctx.log(level, msg),
    )
    .map_err(|e| format!("events {}: {e}", args.id))?;
    Ok(0)
}

/// A Go `time.ParseDuration` string: `0`, or numbers with units ns, us, µs, ms, s, m, h (`1m30s`,
/// `1.5s`). Negative durations are refused here (runc refuses them after parsing).
fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("time: invalid duration \"{s}\"");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let value: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        rest = &rest[u..];
        total += value * nanos;
    }
    Ok(Duration::from_nanos(total as u64))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "5", "-1s", "1x", "s", "1..2s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
