//! cgroup v1 controllers: resource writes per controller (and the files v1 shares with v2), v1 freezer.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use oci_spec::runtime::{
    LinuxBlockIo, LinuxCpu, LinuxHugepageLimit, LinuxInterfacePriority, LinuxMemory, LinuxRdma,
    LinuxThrottleDevice,
};

use super::files::{exists, read, read_u64, write};
use super::{in_field, unsupported, CgroupError};

const MEM: &str = "linux.resources.memory";

/// Write `value` to `dir/file` for config field `field`.
pub(crate) fn set(dir: &Path, file: &str, value: &str, field: &str) -> Result<(), CgroupError> {
    write(dir, file, value).map_err(in_field(field))
}

#[allow(deprecated)] // `kernel` is deprecated in the spec; it is still honoured on v1 when the kernel has it
pub(crate) fn memory_is_set(m: &LinuxMemory) -> bool {
    m.limit().is_some()
        || m.reservation().is_some()
        || m.swap().is_some()
        || m.kernel().is_some()
        || m.kernel_tcp().is_some()
        || m.swappiness().is_some()
        || m.disable_oom_killer().is_some()
        || m.use_hierarchy().is_some()
}

pub(crate) fn cpu_is_set(c: &LinuxCpu) -> bool {
    c.shares().is_some()
        || c.quota().is_some()
        || c.period().is_some()
        || c.burst().is_some()
        || c.realtime_runtime().is_some()
        || c.realtime_period().is_some()
        || c.idle().is_some()
}

pub(crate) fn blkio_is_set(b: &LinuxBlockIo) -> bool {
    b.weight().is_some()
        || b.leaf_weight().is_some()
        || b.weight_device().as_ref().is_some_and(|v| !v.is_empty())
        || [b.throttle_read_bps_device(), b.throttle_write_bps_device()]
            .iter()
            .any(|v| v.as_ref().is_some_and(|v| !v.is_empty()))
        || [
            b.throttle_read_iops_device(),
            b.throttle_write_iops_device(),
        ]
        .iter()
        .any(|v| v.as_ref().is_some_and(|v| !v.is_empty()))
}

/// `checkBeforeUpdate`: refuse a limit below what the cgroup already uses.
pub(crate) fn check_usage(dir: &Path, usage_file: &str, limit: i64) -> Result<(), CgroupError> {
    if limit <= 0 {
        return Ok(());
    }
    let usage = read_u64(dir, usage_file)?.unwrap_or(0);
    if (limit as u64) < usage {
        return Err(unsupported(
            format!("{MEM}.limit"),
            format!("rejecting limit {limit} below the current usage {usage} (checkBeforeUpdate)"),
        ));
    }
    Ok(())
}

/// v1 memory: limit and memsw in the order the kernel accepts, then the other knobs.
#[allow(deprecated)] // `kernel`, see memory_is_set
pub(crate) fn memory(dir: &Path, m: &LinuxMemory) -> Result<(), CgroupError> {
    let mut limit = m.limit().unwrap_or(0);
    let mut swap = m.swap().unwrap_or(0);
    if m.check_before_update() == Some(true) {
        check_usage(dir, "memory.usage_in_bytes", limit)?;
    }
    let has_memsw = exists(dir, "memory.memsw.limit_in_bytes");
    // Memory unlimited and swap unset means both unlimited (runc).
    if limit == -1 && swap == 0 && has_memsw {
        swap = -1;
    }
    if swap != 0 && !has_memsw {
        return Err(unsupported(
            format!("{MEM}.swap"),
            "swap accounting is off on this host (no memory.memsw.limit_in_bytes)",
        ));
    }
    let write_limit = |v: i64| {
        set(
            dir,
            "memory.limit_in_bytes",
            &v.to_string(),
            &format!("{MEM}.limit"),
        )
    };
    let write_swap = |v: i64| {
        set(
            dir,
            "memory.memsw.limit_in_bytes",
            &v.to_string(),
            &format!("{MEM}.swap"),
        )
    };
    if limit != 0 && swap != 0 {
        // memsw must stay >= limit at every step: raise memsw first when growing.
        let cur = read_u64(dir, "memory.limit_in_bytes")?.unwrap_or(0);
        if swap == -1 || cur < swap as u64 {
            write_swap(swap)?;
            write_limit(limit)?;
            limit = 0;
            swap = 0;
        }
    }
    if limit != 0 {
        write_limit(limit)?;
    }
    if swap != 0 {
        write_swap(swap)?;
    }
    if let Some(r) = m.reservation() {
        set(
            dir,
            "memory.soft_limit_in_bytes",
            &r.to_string(),
            &format!("{MEM}.reservation"),
        )?;
    }
    if let Some(k) = m.kernel() {
        if !exists(dir, "memory.kmem.limit_in_bytes") {
            return Err(unsupported(
                format!("{MEM}.kernel"),
                "this kernel has no memory.kmem.limit_in_bytes",
            ));
        }
        set(
            dir,
            "memory.kmem.limit_in_bytes",
            &k.to_string(),
            &format!("{MEM}.kernel"),
        )?;
    }
    if let Some(k) = m.kernel_tcp() {
        if !exists(dir, "memory.kmem.tcp.limit_in_bytes") {
            return Err(unsupported(
                format!("{MEM}.kernelTCP"),
                "this kernel has no memory.kmem.tcp.limit_in_bytes",
            ));
        }
        set(
            dir,
            "memory.kmem.tcp.limit_in_bytes",
            &k.to_string(),
            &format!("{MEM}.kernelTCP"),
        )?;
    }
    if let Some(s) = m.swappiness() {
        if s > 100 {
            return Err(unsupported(
                format!("{MEM}.swappiness"),
                format!("{s} is out of the range 0-100"),
            ));
        }
        set(
            dir,
            "memory.swappiness",
            &s.to_string(),
            &format!("{MEM}.swappiness"),
        )?;
    }
    if m.disable_oom_killer() == Some(true) {
        set(
            dir,
            "memory.oom_control",
            "1",
            &format!("{MEM}.disableOOMKiller"),
        )?;
    }
    if let Some(h) = m.use_hierarchy() {
        set(
            dir,
            "memory.use_hierarchy",
            if h { "1" } else { "0" },
            &format!("{MEM}.useHierarchy"),
        )?;
    }
    Ok(())
}

/// v1 cpu: shares (checked by reading back), CFS period/quota/burst, RT, idle.
pub(crate) fn cpu(dir: &Path, c: &LinuxCpu) -> Result<(), CgroupError> {
    const F: &str = "linux.resources.cpu";
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        set(dir, "cpu.shares", &s.to_string(), &format!("{F}.shares"))?;
        let got = read_u64(dir, "cpu.shares")?.unwrap_or(s);
        if got != s {
            return Err(unsupported(
                format!("{F}.shares"),
                format!("the kernel set {got} for {s} (valid range 2-262144)"),
            ));
        }
    }
    let quota = c.quota().unwrap_or(0);
    let mut retry_period = None;
    if let Some(p) = c.period().filter(|p| *p != 0) {
        if let Err(e) = set(
            dir,
            "cpu.cfs_period_us",
            &p.to_string(),
            &format!("{F}.period"),
        ) {
            // A shorter period can be refused (EINVAL) until the quota shrinks with it: retry after the quota.
            if quota == 0 {
                return Err(e);
            }
            retry_period = Some(p);
        }
    }
    if quota != 0 {
        set(
            dir,
            "cpu.cfs_quota_us",
            &quota.to_string(),
            &format!("{F}.quota"),
        )?;
        if let Some(p) = retry_period {
            set(
                dir,
                "cpu.cfs_period_us",
                &p.to_string(),
                &format!("{F}.period"),
            )?;
        }
    }
    if let Some(b) = c.burst() {
        if !exists(dir, "cpu.cfs_burst_us") {
            return Err(unsupported(
                format!("{F}.burst"),
                "this kernel has no cpu.cfs_burst_us",
            ));
        }
        set(
            dir,
            "cpu.cfs_burst_us",
            &b.to_string(),
            &format!("{F}.burst"),
        )?;
    }
    if let Some(p) = c.realtime_period().filter(|p| *p != 0) {
        set(
            dir,
            "cpu.rt_period_us",
            &p.to_string(),
            &format!("{F}.realtimePeriod"),
        )?;
    }
    if let Some(r) = c.realtime_runtime().filter(|r| *r != 0) {
        set(
            dir,
            "cpu.rt_runtime_us",
            &r.to_string(),
            &format!("{F}.realtimeRuntime"),
        )?;
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

/// cpuset.cpus / cpuset.mems (same files on v1 and v2).
pub(crate) fn cpuset(dir: &Path, c: &LinuxCpu) -> Result<(), CgroupError> {
    if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
        set(dir, "cpuset.cpus", cpus, "linux.resources.cpu.cpus")?;
    }
    if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
        set(dir, "cpuset.mems", mems, "linux.resources.cpu.mems")?;
    }
    Ok(())
}

/// A new v1 cpuset cgroup starts with empty cpus/mems and takes no task: copy them down from the parent.
pub(crate) fn init_cpuset(mount: &Path, leaf: &Path) -> Result<(), CgroupError> {
    let rel = leaf.strip_prefix(mount).unwrap_or(leaf);
    let mut cur = mount.to_path_buf();
    for c in rel.components() {
        let parent = cur.clone();
        cur.push(c);
        for f in ["cpuset.cpus", "cpuset.mems"] {
            if !exists(&cur, f) {
                continue;
            }
            if read(&cur, f)?.trim().is_empty() {
                let v = read(&parent, f)?;
                write(&cur, f, v.trim())?;
            }
        }
    }
    Ok(())
}

/// pids.max (same file on v1 and v2): > 0 is the limit, < 0 is "max", 0 leaves it unchanged (runc).
pub(crate) fn pids(dir: &Path, limit: i64) -> Result<(), CgroupError> {
    if limit == 0 {
        return Ok(());
    }
    let v = if limit > 0 {
        limit.to_string()
    } else {
        "max".to_string()
    };
    set(dir, "pids.max", &v, "linux.resources.pids.limit")
}

fn throttle(
    dir: &Path,
    file: &str,
    list: &Option<Vec<LinuxThrottleDevice>>,
    field: &str,
) -> Result<(), CgroupError> {
    for (i, t) in list.iter().flatten().enumerate() {
        set(
            dir,
            file,
            &format!("{}:{} {}", t.major(), t.minor(), t.rate()),
            &format!("{field}[{i}]"),
        )?;
    }
    Ok(())
}

/// v1 blkio: weights (CFQ files, else BFQ's), per-device weights, throttles.
pub(crate) fn blkio(dir: &Path, b: &LinuxBlockIo) -> Result<(), CgroupError> {
    const F: &str = "linux.resources.blockIO";
    let weight_file = ["blkio.weight", "blkio.bfq.weight"]
        .into_iter()
        .find(|f| exists(dir, f));
    if let Some(w) = b.weight() {
        let Some(file) = weight_file else {
            return Err(unsupported(
                format!("{F}.weight"),
                "no blkio.weight or blkio.bfq.weight (no CFQ/BFQ)",
            ));
        };
        set(dir, file, &w.to_string(), &format!("{F}.weight"))?;
    }
    if let Some(w) = b.leaf_weight() {
        if !exists(dir, "blkio.leaf_weight") {
            return Err(unsupported(
                format!("{F}.leafWeight"),
                "no blkio.leaf_weight on this kernel (CFQ only)",
            ));
        }
        set(
            dir,
            "blkio.leaf_weight",
            &w.to_string(),
            &format!("{F}.leafWeight"),
        )?;
    }
    for (i, wd) in b.weight_device().iter().flatten().enumerate() {
        let field = format!("{F}.weightDevice[{i}]");
        if let Some(w) = wd.weight() {
            let file = ["blkio.weight_device", "blkio.bfq.weight_device"]
                .into_iter()
                .find(|f| exists(dir, f));
            let Some(file) = file else {
                return Err(unsupported(
                    format!("{field}.weight"),
                    "no blkio.weight_device or blkio.bfq.weight_device",
                ));
            };
            set(
                dir,
                file,
                &format!("{}:{} {}", wd.major(), wd.minor(), w),
                &field,
            )?;
        }
        if let Some(w) = wd.leaf_weight() {
            if !exists(dir, "blkio.leaf_weight_device") {
                return Err(unsupported(
                    format!("{field}.leafWeight"),
                    "no blkio.leaf_weight_device (CFQ only)",
                ));
            }
            set(
                dir,
                "blkio.leaf_weight_device",
                &format!("{}:{} {}", wd.major(), wd.minor(), w),
                &field,
            )?;
        }
    }
    throttle(
        dir,
        "blkio.throttle.read_bps_device",
        b.throttle_read_bps_device(),
        &format!("{F}.throttleReadBpsDevice"),
    )?;
    throttle(
        dir,
        "blkio.throttle.write_bps_device",
        b.throttle_write_bps_device(),
        &format!("{F}.throttleWriteBpsDevice"),
    )?;
    throttle(
        dir,
        "blkio.throttle.read_iops_device",
        b.throttle_read_iops_device(),
        &format!("{F}.throttleReadIOPSDevice"),
    )?;
    throttle(
        dir,
        "blkio.throttle.write_iops_device",
        b.throttle_write_iops_device(),
        &format!("{F}.throttleWriteIOPSDevice"),
    )?;
    Ok(())
}

/// hugetlb.<size>.limit_in_bytes (and the reservation limit when the kernel has it).
pub(crate) fn hugetlb(dir: &Path, limits: &[LinuxHugepageLimit]) -> Result<(), CgroupError> {
    for (i, h) in limits.iter().enumerate() {
        let field = format!("linux.resources.hugepageLimits[{i}]");
        let file = format!("hugetlb.{}.limit_in_bytes", h.page_size());
        if !exists(dir, &file) {
            return Err(unsupported(
                format!("{field}.pageSize"),
                format!("no `{}` hugepages on this host", h.page_size()),
            ));
        }
        set(dir, &file, &h.limit().to_string(), &field)?;
        let rsvd = format!("hugetlb.{}.rsvd.limit_in_bytes", h.page_size());
        if exists(dir, &rsvd) {
            set(dir, &rsvd, &h.limit().to_string(), &field)?;
        }
    }
    Ok(())
}

pub(crate) fn net_cls(dir: &Path, class_id: u32) -> Result<(), CgroupError> {
    set(
        dir,
        "net_cls.classid",
        &class_id.to_string(),
        "linux.resources.network.classID",
    )
}

pub(crate) fn net_prio(dir: &Path, prios: &[LinuxInterfacePriority]) -> Result<(), CgroupError> {
    for (i, p) in prios.iter().enumerate() {
        let field = format!("linux.resources.network.priorities[{i}]");
        set(
            dir,
            "net_prio.ifpriomap",
            &format!("{} {}", p.name(), p.priority()),
            &field,
        )?;
    }
    Ok(())
}

/// rdma.max (same format on v1 and v2): `<device> hca_handle=N hca_object=M`, unset is `max`.
pub(crate) fn rdma(dir: &Path, r: &HashMap<String, LinuxRdma>) -> Result<(), CgroupError> {
    let mut devs: Vec<&String> = r.keys().collect();
    devs.sort();
    for dev in devs {
        let l = &r[dev];
        let num = |v: Option<u32>| {
            v.map(|n| n.to_string())
                .unwrap_or_else(|| "max".to_string())
        };
        let line = format!(
            "{dev} hca_handle={} hca_object={}",
            num(l.hca_handles()),
            num(l.hca_objects())
        );
        set(
            dir,
            "rdma.max",
            &line,
            &format!("linux.resources.rdma.{dev}"),
        )?;
    }
    Ok(())
}

const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

/// v1 freezer: write FROZEN until the state reads FROZEN (a task in an uninterruptible sleep can keep it
/// FREEZING; rewriting retries the freeze, as runc does).
pub(crate) fn freeze(dir: &Path) -> Result<(), CgroupError> {
    let start = Instant::now();
    let mut until_rewrite = 0u32;
    loop {
        if until_rewrite == 0 {
            write(dir, "freezer.state", "FROZEN")?;
            until_rewrite = 50;
        }
        until_rewrite -= 1;
        if read(dir, "freezer.state")?.trim() == "FROZEN" {
            return Ok(());
        }
        if start.elapsed() > FREEZE_TIMEOUT {
            let _ = write(dir, "freezer.state", "THAWED");
            return Err(CgroupError::Timeout {
                what: "freezing",
                path: dir.to_path_buf(),
                timeout: FREEZE_TIMEOUT,
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

pub(crate) fn thaw(dir: &Path) -> Result<(), CgroupError> {
    write(dir, "freezer.state", "THAWED")
}
