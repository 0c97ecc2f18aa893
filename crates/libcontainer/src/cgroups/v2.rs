//! cgroup v2 controllers: subtree_control delegation, v1→v2 value conversions, resource writes, freezer.

use std::path::Path;
use std::time::{Duration, Instant};

use oci_spec::runtime::{
    LinuxBlockIo, LinuxCpu, LinuxHugepageLimit, LinuxMemory, LinuxThrottleDevice,
};

use super::files::{exists, keyed_value, read, read_opt, write};
use super::v1::{check_usage, set};
use super::{unsupported, CgroupError};

/// Enable `controllers` in `cgroup.subtree_control` of every cgroup from the mount down to `leaf`'s parent,
/// skipping those already enabled (so a cgroup that already delegates them is never written) and those a
/// parent does not offer. All at once first; if the kernel refuses, one by one. `strict`: a refusal is an
/// error (a resource needs it), else it is skipped as runc does (e.g. cpu with realtime tasks in a parent).
pub(crate) fn enable_controllers(
    mount: &Path,
    leaf: &Path,
    controllers: &[&str],
    strict: bool,
) -> Result<(), CgroupError> {
    let Ok(rel) = leaf.strip_prefix(mount) else {
        return Ok(());
    };
    let mut cur = mount.to_path_buf();
    for c in rel.components() {
        let enabled = read_opt(&cur, "cgroup.subtree_control")?.unwrap_or_default();
        let available = read_opt(&cur, "cgroup.controllers")?.unwrap_or_default();
        let missing: Vec<String> = controllers
            .iter()
            .filter(|ctrl| {
                !enabled
                    .split_whitespace()
                    .any(|e| e.trim_start_matches('+') == **ctrl)
            })
            .filter(|ctrl| available.split_whitespace().any(|a| a == **ctrl))
            .map(|ctrl| format!("+{ctrl}"))
            .collect();
        if !missing.is_empty() && write(&cur, "cgroup.subtree_control", &missing.join(" ")).is_err()
        {
            for m in &missing {
                match write(&cur, "cgroup.subtree_control", m) {
                    Err(e) if strict => return Err(e),
                    Err(e) => tracing::warn!(error = %e, "controller not delegated"),
                    Ok(()) => {}
                }
            }
        }
        cur.push(c);
    }
    Ok(())
}

/// runc's cpu.shares (2..262144) → cpu.weight (1..10000): `1 + ((shares - 2) * 9999) / 262142`; 0 stays unset.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + (shares.saturating_sub(2) * 9999) / 262142
}

/// runc's blkio.weight (10..1000) → io.weight (1..10000): `1 + (weight - 10) * 9999 / 990`; 0 stays unset.
pub fn blkio_weight_to_io_weight(weight: u64) -> u64 {
    if weight == 0 {
        return 0;
    }
    1 + (weight.saturating_sub(10) * 9999) / 990
}

/// runc's memory.swap (memory+swap, v1 semantics) → memory.swap.max (swap only).
/// Returns the value to write: `None` leaves the file alone, `Some(-1)` is `max`.
pub fn swap_to_v2(swap: i64, limit: i64) -> Result<Option<i64>, String> {
    // Memory unlimited and swap unset: both unlimited, as on v1.
    if limit == -1 && swap == 0 {
        return Ok(Some(-1));
    }
    match swap {
        0 => return Ok(None),
        -1 => return Ok(Some(-1)),
        _ => {}
    }
    if limit == 0 || limit == -1 {
        return Err("a swap limit needs a memory limit".to_string());
    }
    if limit < 0 {
        return Err(format!("invalid memory limit {limit}"));
    }
    if swap < limit {
        return Err(format!(
            "memory+swap limit {swap} is below the memory limit {limit}"
        ));
    }
    Ok(Some(swap - limit))
}

fn num(v: i64) -> String {
    if v < 0 {
        "max".to_string()
    } else {
        v.to_string()
    }
}

const MEM: &str = "linux.resources.memory";

/// v2 memory: memory.swap.max (converted), memory.max, memory.low; v1-only knobs are refused by name.
#[allow(deprecated)] // `kernel` is deprecated in the spec: refused here, by name
pub(crate) fn memory(dir: &Path, m: &LinuxMemory) -> Result<(), CgroupError> {
    if m.kernel().is_some() {
        return Err(unsupported(
            format!("{MEM}.kernel"),
            "not supported on cgroup v2",
        ));
    }
    if m.kernel_tcp().is_some() {
        return Err(unsupported(
            format!("{MEM}.kernelTCP"),
            "not supported on cgroup v2",
        ));
    }
    if m.swappiness().is_some() {
        return Err(unsupported(
            format!("{MEM}.swappiness"),
            "not supported on cgroup v2",
        ));
    }
    if m.disable_oom_killer() == Some(true) {
        return Err(unsupported(
            format!("{MEM}.disableOOMKiller"),
            "not supported on cgroup v2",
        ));
    }
    if m.use_hierarchy() == Some(false) {
        return Err(unsupported(
            format!("{MEM}.useHierarchy"),
            "cgroup v2 is always hierarchical",
        ));
    }
    let limit = m.limit().unwrap_or(0);
    let swap = m.swap().unwrap_or(0);
    if m.check_before_update() == Some(true) {
        check_usage(dir, "memory.current", limit)?;
    }
    let swap_v2 = swap_to_v2(swap, limit).map_err(|r| unsupported(format!("{MEM}.swap"), r))?;
    if let Some(s) = swap_v2 {
        if !exists(dir, "memory.swap.max") {
            // Unlimited swap asked implicitly (limit -1) is fine without swap accounting.
            if swap != 0 {
                return Err(unsupported(
                    format!("{MEM}.swap"),
                    "swap accounting is off (no memory.swap.max)",
                ));
            }
        } else {
            set(dir, "memory.swap.max", &num(s), &format!("{MEM}.swap"))?;
        }
    }
    if limit != 0 {
        set(dir, "memory.max", &num(limit), &format!("{MEM}.limit"))?;
    }
    if let Some(r) = m.reservation().filter(|r| *r != 0) {
        set(dir, "memory.low", &num(r), &format!("{MEM}.reservation"))?;
    }
    Ok(())
}

/// v2 cpu: cpu.weight from shares, cpu.max from quota/period, cpu.max.burst, cpu.idle; no RT.
pub(crate) fn cpu(dir: &Path, c: &LinuxCpu) -> Result<(), CgroupError> {
    const F: &str = "linux.resources.cpu";
    if c.realtime_runtime().is_some_and(|r| r != 0) {
        return Err(unsupported(
            format!("{F}.realtimeRuntime"),
            "not supported on cgroup v2",
        ));
    }
    if c.realtime_period().is_some_and(|p| p != 0) {
        return Err(unsupported(
            format!("{F}.realtimePeriod"),
            "not supported on cgroup v2",
        ));
    }
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        let w = shares_to_weight(s);
        if !(1..=10000).contains(&w) {
            return Err(unsupported(
                format!("{F}.shares"),
                format!("{s} is out of the range 2-262144"),
            ));
        }
        set(dir, "cpu.weight", &w.to_string(), &format!("{F}.shares"))?;
    }
    let quota = c.quota().unwrap_or(0);
    let period = c.period().unwrap_or(0);
    if quota != 0 || period != 0 {
        let mut v = if quota > 0 {
            quota.to_string()
        } else {
            "max".to_string()
        };
        if period != 0 {
            v.push_str(&format!(" {period}"));
        }
        set(dir, "cpu.max", &v, &format!("{F}.quota"))?;
    }
    if let Some(b) = c.burst() {
        if !exists(dir, "cpu.max.burst") {
            return Err(unsupported(
                format!("{F}.burst"),
                "this kernel has no cpu.max.burst",
            ));
        }
        set(dir, "cpu.max.burst", &b.to_string(), &format!("{F}.burst"))?;
    }
    if let Some(i) = c.idle() {
        if !exists(dir, "cpu.idle") {
            return Err(unsupported(
                format!("{F}.idle"),
                "this kernel has no cpu.idle",
            ));
        }
        set(dir, "cpu.idle", &i.to_string(), &format!("{F}.idle"))?;
    }
    Ok(())
}

fn io_max(
    dir: &Path,
    key: &str,
    list: &Option<Vec<LinuxThrottleDevice>>,
    field: &str,
) -> Result<(), CgroupError> {
    for (i, t) in list.iter().flatten().enumerate() {
        let v = format!("{}:{} {key}={}", t.major(), t.minor(), t.rate());
        set(dir, "io.max", &v, &format!("{field}[{i}]"))?;
    }
    Ok(())
}

/// v2 io: BFQ weight as is when io.bfq.weight exists, else io.weight converted; throttles into io.max.
pub(crate) fn io(dir: &Path, b: &LinuxBlockIo) -> Result<(), CgroupError> {
    const F: &str = "linux.resources.blockIO";
    let bfq = exists(dir, "io.bfq.weight");
    if b.leaf_weight().is_some() {
        return Err(unsupported(
            format!("{F}.leafWeight"),
            "not supported on cgroup v2",
        ));
    }
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        if bfq {
            set(dir, "io.bfq.weight", &w.to_string(), &format!("{F}.weight"))?;
        } else if exists(dir, "io.weight") {
            set(
                dir,
                "io.weight",
                &blkio_weight_to_io_weight(w.into()).to_string(),
                &format!("{F}.weight"),
            )?;
        } else {
            return Err(unsupported(
                format!("{F}.weight"),
                "no io.bfq.weight or io.weight (no BFQ, no io cost)",
            ));
        }
    }
    for (i, wd) in b.weight_device().iter().flatten().enumerate() {
        let field = format!("{F}.weightDevice[{i}]");
        if wd.leaf_weight().is_some() {
            return Err(unsupported(
                format!("{field}.leafWeight"),
                "not supported on cgroup v2",
            ));
        }
        let Some(w) = wd.weight() else { continue };
        if bfq {
            set(
                dir,
                "io.bfq.weight",
                &format!("{}:{} {w}", wd.major(), wd.minor()),
                &field,
            )?;
        } else if exists(dir, "io.weight") {
            let v = format!(
                "{}:{} {}",
                wd.major(),
                wd.minor(),
                blkio_weight_to_io_weight(w.into())
            );
            set(dir, "io.weight", &v, &field)?;
        } else {
            return Err(unsupported(
                field,
                "no io.bfq.weight or io.weight (no BFQ, no io cost)",
            ));
        }
    }
    io_max(
        dir,
        "rbps",
        b.throttle_read_bps_device(),
        &format!("{F}.throttleReadBpsDevice"),
    )?;
    io_max(
        dir,
        "wbps",
        b.throttle_write_bps_device(),
        &format!("{F}.throttleWriteBpsDevice"),
    )?;
    io_max(
        dir,
        "riops",
        b.throttle_read_iops_device(),
        &format!("{F}.throttleReadIOPSDevice"),
    )?;
    io_max(
        dir,
        "wiops",
        b.throttle_write_iops_device(),
        &format!("{F}.throttleWriteIOPSDevice"),
    )?;
    Ok(())
}

/// hugetlb.<size>.max (and .rsvd.max when the kernel has it).
pub(crate) fn hugetlb(dir: &Path, limits: &[LinuxHugepageLimit]) -> Result<(), CgroupError> {
    for (i, h) in limits.iter().enumerate() {
        let field = format!("linux.resources.hugepageLimits[{i}]");
        let file = format!("hugetlb.{}.max", h.page_size());
        if !exists(dir, &file) {
            return Err(unsupported(
                format!("{field}.pageSize"),
                format!("no `{}` hugepages on this host", h.page_size()),
            ));
        }
        set(dir, &file, &num(h.limit()), &field)?;
        let rsvd = format!("hugetlb.{}.rsvd.max", h.page_size());
        if exists(dir, &rsvd) {
            set(dir, &rsvd, &num(h.limit()), &field)?;
        }
    }
    Ok(())
}

const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the cgroup is (asked to be) frozen: cgroup.freeze, as runc reads it. cgroup.events' `frozen`
/// drops to 0 for a moment whenever a frozen task is woken to take a signal, so it is not the state.
pub(crate) fn is_frozen(dir: &Path) -> Result<bool, CgroupError> {
    Ok(read(dir, "cgroup.freeze")?.trim() == "1")
}

/// `frozen` of cgroup.events: the kernel's report that every task has stopped (a fake cgroupfs has no
/// cgroup.events: cgroup.freeze stands in for it there).
fn frozen_event(dir: &Path) -> Result<bool, CgroupError> {
    match keyed_value(dir, "cgroup.events", "frozen")? {
        Some(v) => Ok(v == 1),
        None => is_frozen(dir),
    }
}

/// cgroup.freeze, then wait until cgroup.events says `frozen` matches.
pub(crate) fn freeze(dir: &Path, frozen: bool) -> Result<(), CgroupError> {
    let want = u64::from(frozen);
    write(dir, "cgroup.freeze", &want.to_string())?;
    let start = Instant::now();
    loop {
        if frozen_event(dir)? == frozen {
            return Ok(());
        }
        if start.elapsed() > FREEZE_TIMEOUT {
            if frozen {
                let _ = write(dir, "cgroup.freeze", "0");
            }
            let what = if frozen { "freezing" } else { "thawing" };
            return Err(CgroupError::Timeout {
                what,
                path: dir.to_path_buf(),
                timeout: FREEZE_TIMEOUT,
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_runc() {
        assert_eq!(shares_to_weight(0), 0);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262144), 10000);
        assert_eq!(blkio_weight_to_io_weight(10), 1);
        assert_eq!(blkio_weight_to_io_weight(500), 4950);
        assert_eq!(blkio_weight_to_io_weight(1000), 10000);
        assert_eq!(swap_to_v2(0, 0), Ok(None));
        assert_eq!(swap_to_v2(0, -1), Ok(Some(-1)));
        assert_eq!(swap_to_v2(-1, 100), Ok(Some(-1)));
        assert_eq!(swap_to_v2(300, 100), Ok(Some(200)));
        assert_eq!(swap_to_v2(100, 100), Ok(Some(0)));
        assert!(swap_to_v2(50, 100).is_err());
        assert!(swap_to_v2(100, 0).is_err());
        assert!(swap_to_v2(100, -1).is_err());
    }
}
