//! `brig update [--resources FILE|-] [FLAGS] ID`: change the cgroup limits of a live container.
//!
//! As in runc: `--resources` (a JSON LinuxResources from FILE, or stdin for `-`) makes every other
//! flag ignored; memory sizes take units (`512m`, `1.5g`, `100MiB`, binary multiples) or `-1`;
//! a flag left out (or a 0 pids limit / blkio weight) leaves that limit unchanged.

use super::Outcome;
use crate::Ctx;
use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxPids, LinuxResources};
use std::io::Read;

/// Update the resource limits of a container
#[derive(clap::Args, Debug)]
pub struct Args {
    /// File with the JSON resources to apply, or `-` for stdin; all other flags are then ignored
    #[arg(short = 'r', long, value_name = "FILE")]
    pub resources: Option<String>,
    /// Per-cgroup block IO weight, 10 to 1000
    #[arg(long = "blkio-weight", default_value_t = 0)]
    pub blkio_weight: u16,
    /// CPU CFS period (microseconds)
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<String>,
    /// CPU CFS quota (microseconds per period)
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<String>,
    /// CPU CFS burst (microseconds)
    #[arg(long = "cpu-burst")]
    pub cpu_burst: Option<String>,
    /// CPU shares (relative weight)
    #[arg(long = "cpu-share", alias = "cpu-shares")]
    pub cpu_share: Option<String>,
    /// CPU realtime period (microseconds)
    #[arg(long = "cpu-rt-period")]
    pub cpu_rt_period: Option<String>,
    /// CPU realtime runtime (microseconds per period)
    #[arg(long = "cpu-rt-runtime", allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<String>,
    /// CPU idle (cgroup v2): 1 for SCHED_IDLE
    #[arg(long = "cpu-idle")]
    pub cpu_idle: Option<String>,
    /// CPUs to use
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes to use
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Obsolete, ignored with a warning (as runc)
    #[arg(long = "kernel-memory", hide = true, allow_hyphen_values = true)]
    pub kernel_memory: Option<String>,
    /// Obsolete, ignored with a warning (as runc)
    #[arg(long = "kernel-memory-tcp", hide = true, allow_hyphen_values = true)]
    pub kernel_memory_tcp: Option<String>,
    /// Memory limit (bytes, or with a unit: 512m, 1g)
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Memory plus swap limit; -1 for unlimited swap
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Maximum number of pids; -1 for unlimited
    #[arg(long = "pids-limit", allow_hyphen_values = true, default_value_t = 0)]
    pub pids_limit: i64,
    /// Intel RDT/CAT L3 cache schema
    #[arg(long = "l3-cache-schema")]
    pub l3_cache_schema: Option<String>,
    /// Intel RDT/MBA memory bandwidth schema
    #[arg(long = "mem-bw-schema")]
    pub mem_bw_schema: Option<String>,
    pub id: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    let fail = |e: &dyn std::fmt::Display| format!("update {}: {e}", args.id);
    // brig has no Intel RDT support: runc's messages for a host without it.
    if args
        .l3_cache_schema
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(fail(&"Intel RDT/CAT: l3 cache schema is not enabled"));
    }
    if args.mem_bw_schema.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(fail(
            &"Intel RDT/MBA: memory bandwidth schema is not enabled",
        ));
    }
    let res = match args.resources.as_deref() {
        Some(src) => from_json(src).map_err(|e| fail(&e))?,
        None => {
            if args.kernel_memory.is_some() || args.kernel_memory_tcp.is_some() {
                ctx.log(
                    tracing::Level::WARN,
                    "Kernel memory settings are ignored and will be removed",
                );
            }
            from_flags(&args).map_err(|e| fail(&e))?
        }
    };
    libcontainer::container::update(&ctx.root, &args.id, &res).map_err(|e| fail(&e))?;
    Ok(0)
}

fn from_json(src: &str) -> Result<LinuxResources, String> {
    let mut text = String::new();
    if src == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("read resources from stdin: {e}"))?;
    } else {
        text = std::fs::read_to_string(src).map_err(|e| format!("read resources `{src}`: {e}"))?;
    }
    let what = if src == "-" { "stdin" } else { src };
    serde_json::from_str(&text).map_err(|e| format!("parse resources from `{what}`: {e}"))
}

fn from_flags(a: &Args) -> Result<LinuxResources, String> {
    let mut res = LinuxResources::default();

    let mut mem = LinuxMemory::default();
    mem.set_limit(memory_value("memory", &a.memory)?);
    mem.set_reservation(memory_value("memory-reservation", &a.memory_reservation)?);
    mem.set_swap(memory_value("memory-swap", &a.memory_swap)?);
    if mem != LinuxMemory::default() {
        res.set_memory(Some(mem));
    }

    let mut cpu = LinuxCpu::default();
    cpu.set_period(number("cpu-period", &a.cpu_period)?);
    cpu.set_quota(number("cpu-quota", &a.cpu_quota)?);
    cpu.set_burst(number("cpu-burst", &a.cpu_burst)?);
    cpu.set_shares(number("cpu-share", &a.cpu_share)?);
    cpu.set_realtime_period(number("cpu-rt-period", &a.cpu_rt_period)?);
    cpu.set_realtime_runtime(number("cpu-rt-runtime", &a.cpu_rt_runtime)?);
    cpu.set_idle(number("cpu-idle", &a.cpu_idle)?);
    cpu.set_cpus(a.cpuset_cpus.clone().filter(|s| !s.is_empty()));
    cpu.set_mems(a.cpuset_mems.clone().filter(|s| !s.is_empty()));
    if cpu != LinuxCpu::default() {
        res.set_cpu(Some(cpu));
    }

    if a.blkio_weight != 0 {
        let mut b = LinuxBlockIo::default();
        b.set_weight(Some(a.blkio_weight));
        res.set_block_io(Some(b));
    }
    if a.pids_limit != 0 {
        let mut p = LinuxPids::default();
        p.set_limit(a.pids_limit);
        res.set_pids(Some(p));
    }
    Ok(res)
}

/// An integer flag; runc's message when it does not parse.
fn number<T: std::str::FromStr>(flag: &str, v: &Option<String>) -> Result<Option<T>, String>
where
    T::Err: std::fmt::Display,
{
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|e| format!("invalid value for {flag}: {e}")),
    }
}

fn memory_value(flag: &str, v: &Option<String>) -> Result<Option<i64>, String> {
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some("-1") => Ok(Some(-1)),
        Some(s) => ram_in_bytes(s)
            .map(Some)
            .ok_or_else(|| format!("invalid value for {flag}: invalid size: '{s}'")),
    }
}

/// docker/go-units `RAMInBytes`, which runc uses: a decimal number, an optional space, then an
/// optional k/m/g/t/p (binary multiples, any case) with an optional `i` and `b`: `512m`, `1.5GiB`.
fn ram_in_bytes(s: &str) -> Option<i64> {
    let n = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(n);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.contains("..") {
        return None;
    }
    let value: f64 = num.parse().ok()?;
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let mut rest = unit.as_str();
    let mul: f64 = match rest.chars().next() {
        Some(c @ ('k' | 'm' | 'g' | 't' | 'p')) => {
            rest = &rest[1..];
            let power = "kmgtp".find(c)? as i32 + 1;
            1024f64.powi(power)
        }
        _ => 1.0,
    };
    rest = rest.strip_prefix('i').unwrap_or(rest);
    rest = rest.strip_prefix('b').unwrap_or(rest);
    if !rest.is_empty() {
        return None;
    }
    Some((value * mul) as i64)
}

#[cfg(test)]
mod tests {
    use super::ram_in_bytes;

    #[test]
    fn sizes_as_runc_reads_them() {
        assert_eq!(ram_in_bytes("1048576"), Some(1 << 20));
        assert_eq!(ram_in_bytes("512m"), Some(512 << 20));
        assert_eq!(ram_in_bytes("512M"), Some(512 << 20));
        assert_eq!(ram_in_bytes("1.5g"), Some(1610612736));
        assert_eq!(ram_in_bytes("100MiB"), Some(100 << 20));
        assert_eq!(ram_in_bytes("100 KB"), Some(100 << 10));
        assert_eq!(ram_in_bytes("64b"), Some(64));
        for bad in ["", "abc", "-2", "1x", "m", "1.2.3g", "12mb5"] {
            assert_eq!(ram_in_bytes(bad), None, "{bad:?}");
        }
    }
}
