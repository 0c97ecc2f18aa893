//! Stats in the JSON shape of runc's `events --stats` (runc types/events.go), read from v1 or v2 files.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::files::{keyed_value, parse_flat_keyed, read_opt, read_u64};
use super::{Cgroup, CgroupError, Place};

fn zero(v: &u64) -> bool {
    *v == 0
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub cpu: CpuStats,
    pub cpuset: CpusetStats,
    pub memory: MemoryStats,
    pub pids: PidsStats,
    pub blkio: BlkioStats,
    pub hugetlb: BTreeMap<String, HugetlbStats>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuUsage {
    /// Nanoseconds.
    #[serde(default, skip_serializing_if = "zero")]
    pub total: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu_kernel: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu_user: Vec<u64>,
    pub kernel: u64,
    pub user: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    #[serde(default, skip_serializing_if = "zero")]
    pub periods: u64,
    #[serde(default, skip_serializing_if = "zero")]
    pub throttled_periods: u64,
    /// Nanoseconds.
    #[serde(default, skip_serializing_if = "zero")]
    pub throttled_time: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuStats {
    pub usage: CpuUsage,
    pub throttling: Throttling,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpusetStats {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mems: Vec<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryEntry {
    pub limit: u64,
    #[serde(default, skip_serializing_if = "zero")]
    pub usage: u64,
    #[serde(default, skip_serializing_if = "zero")]
    pub max: u64,
    pub failcnt: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryStats {
    #[serde(default, skip_serializing_if = "zero")]
    pub cache: u64,
    pub usage: MemoryEntry,
    pub swap: MemoryEntry,
    pub kernel: MemoryEntry,
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PidsStats {
    #[serde(default, skip_serializing_if = "zero")]
    pub current: u64,
    /// 0 when unlimited.
    #[serde(default, skip_serializing_if = "zero")]
    pub limit: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlkioEntry {
    #[serde(default, skip_serializing_if = "zero")]
    pub major: u64,
    #[serde(default, skip_serializing_if = "zero")]
    pub minor: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub op: String,
    #[serde(default, skip_serializing_if = "zero")]
    pub value: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlkioStats {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HugetlbStats {
    #[serde(default, skip_serializing_if = "zero")]
    pub usage: u64,
    #[serde(default, skip_serializing_if = "zero")]
    pub max: u64,
    pub failcnt: u64,
}

/// Per-cpu numbers on one line, separated by spaces.
fn list(dir: &Path, file: &str) -> Result<Vec<u64>, CgroupError> {
    Ok(read_opt(dir, file)?
        .map(|s| {
            s.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default())
}

/// `0-3,5` → [0, 1, 2, 3, 5].
fn cpu_list(text: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u16>(), b.parse::<u16>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<u16>().ok()),
        }
    }
    out
}

fn unlimited_as_zero(v: Option<u64>) -> u64 {
    v.filter(|v| *v != u64::MAX).unwrap_or(0)
}

/// USER_HZ: the unit of cpuacct.stat.
const CLOCK_TICKS: u64 = 100;

fn cpu_v1(s: &mut CpuStats, cpu: Option<&Path>, acct: Option<&Path>) -> Result<(), CgroupError> {
    if let Some(d) = acct {
        s.usage.total = read_u64(d, "cpuacct.usage")?.unwrap_or(0);
        s.usage.percpu = list(d, "cpuacct.usage_percpu")?;
        s.usage.percpu_kernel = list(d, "cpuacct.usage_percpu_sys")?;
        s.usage.percpu_user = list(d, "cpuacct.usage_percpu_user")?;
        let ns = 1_000_000_000 / CLOCK_TICKS;
        s.usage.user = keyed_value(d, "cpuacct.stat", "user")?.unwrap_or(0) * ns;
        s.usage.kernel = keyed_value(d, "cpuacct.stat", "system")?.unwrap_or(0) * ns;
    }
    if let Some(d) = cpu {
        s.throttling.periods = keyed_value(d, "cpu.stat", "nr_periods")?.unwrap_or(0);
        s.throttling.throttled_periods = keyed_value(d, "cpu.stat", "nr_throttled")?.unwrap_or(0);
        s.throttling.throttled_time = keyed_value(d, "cpu.stat", "throttled_time")?.unwrap_or(0);
    }
    Ok(())
}

fn cpu_v2(s: &mut CpuStats, d: &Path) -> Result<(), CgroupError> {
    let stat = parse_flat_keyed(&read_opt(d, "cpu.stat")?.unwrap_or_default());
    let get = |k: &str| {
        stat.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| *v)
            .unwrap_or(0)
    };
    s.usage.total = get("usage_usec") * 1000;
    s.usage.user = get("user_usec") * 1000;
    s.usage.kernel = get("system_usec") * 1000;
    s.throttling.periods = get("nr_periods");
    s.throttling.throttled_periods = get("nr_throttled");
    s.throttling.throttled_time = get("throttled_usec") * 1000;
    Ok(())
}

fn mem_entry_v1(d: &Path, prefix: &str) -> Result<MemoryEntry, CgroupError> {
    Ok(MemoryEntry {
        limit: read_u64(d, &format!("{prefix}.limit_in_bytes"))?.unwrap_or(0),
        usage: read_u64(d, &format!("{prefix}.usage_in_bytes"))?.unwrap_or(0),
        max: read_u64(d, &format!("{prefix}.max_usage_in_bytes"))?.unwrap_or(0),
        failcnt: read_u64(d, &format!("{prefix}.failcnt"))?.unwrap_or(0),
    })
}

fn memory(s: &mut MemoryStats, place: Place<'_>) -> Result<(), CgroupError> {
    let (Place::V1(d) | Place::V2(d)) = place;
    s.raw = parse_flat_keyed(&read_opt(d, "memory.stat")?.unwrap_or_default())
        .into_iter()
        .collect();
    match place {
        Place::V1(d) => {
            s.cache = s.raw.get("cache").copied().unwrap_or(0);
            s.usage = mem_entry_v1(d, "memory")?;
            s.swap = mem_entry_v1(d, "memory.memsw")?;
            s.kernel = mem_entry_v1(d, "memory.kmem")?;
            s.kernel_tcp = mem_entry_v1(d, "memory.kmem.tcp")?;
        }
        Place::V2(d) => {
            s.cache = s.raw.get("file").copied().unwrap_or(0);
            let usage = read_u64(d, "memory.current")?.unwrap_or(0);
            let limit = read_u64(d, "memory.max")?.unwrap_or(u64::MAX);
            s.usage = MemoryEntry {
                limit,
                usage,
                max: read_u64(d, "memory.peak")?.unwrap_or(0),
                failcnt: keyed_value(d, "memory.events", "max")?.unwrap_or(0),
            };
            // runc reports v2 swap as memory+swap, as v1's memsw.
            if let Some(swap) = read_u64(d, "memory.swap.current")? {
                let swap_max = read_u64(d, "memory.swap.max")?.unwrap_or(u64::MAX);
                s.swap = MemoryEntry {
                    limit: limit.saturating_add(swap_max),
                    usage: usage + swap,
                    max: 0,
                    failcnt: keyed_value(d, "memory.swap.events", "fail")?.unwrap_or(0),
                };
            }
        }
    }
    Ok(())
}

fn blkio_v1(s: &mut BlkioStats, d: &Path) -> Result<(), CgroupError> {
    let parse = |file: &str| -> Result<Vec<BlkioEntry>, CgroupError> {
        let text = read_opt(d, file)?.unwrap_or_default();
        Ok(text
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let [dev, op, v] = f[..] else { return None };
                let (maj, min) = dev.split_once(':')?;
                Some(BlkioEntry {
                    major: maj.parse().ok()?,
                    minor: min.parse().ok()?,
                    op: op.to_string(),
                    value: v.parse().ok()?,
                })
            })
            .collect())
    };
    // CFQ/BFQ's files count what the scheduler saw; the throttle ones are always there.
    s.io_service_bytes_recursive = parse("blkio.throttle.io_service_bytes_recursive")?;
    s.io_serviced_recursive = parse("blkio.throttle.io_serviced_recursive")?;
    Ok(())
}

fn io_v2(s: &mut BlkioStats, d: &Path) -> Result<(), CgroupError> {
    for line in read_opt(d, "io.stat")?.unwrap_or_default().lines() {
        let mut it = line.split_whitespace();
        let Some((maj, min)) = it.next().and_then(|dev| dev.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (maj.parse::<u64>(), min.parse::<u64>()) else {
            continue;
        };
        for kv in it {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let Ok(value) = v.parse::<u64>() else {
                continue;
            };
            let e = |op: &str| BlkioEntry {
                major,
                minor,
                op: op.to_string(),
                value,
            };
            match k {
                "rbytes" => s.io_service_bytes_recursive.push(e("Read")),
                "wbytes" => s.io_service_bytes_recursive.push(e("Write")),
                "rios" => s.io_serviced_recursive.push(e("Read")),
                "wios" => s.io_serviced_recursive.push(e("Write")),
                _ => {}
            }
        }
    }
    Ok(())
}

fn hugetlb(out: &mut BTreeMap<String, HugetlbStats>, place: Place<'_>) -> Result<(), CgroupError> {
    let (Place::V1(d) | Place::V2(d)) = place;
    let Ok(rd) = std::fs::read_dir(d) else {
        return Ok(());
    };
    let mut sizes: Vec<String> = rd
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let rest = n.strip_prefix("hugetlb.")?;
            let (size, tail) = rest.split_once('.')?;
            matches!(tail, "limit_in_bytes" | "max").then(|| size.to_string())
        })
        .collect();
    sizes.sort();
    sizes.dedup();
    for size in sizes {
        let st = match place {
            Place::V1(d) => HugetlbStats {
                usage: read_u64(d, &format!("hugetlb.{size}.usage_in_bytes"))?.unwrap_or(0),
                max: read_u64(d, &format!("hugetlb.{size}.max_usage_in_bytes"))?.unwrap_or(0),
                failcnt: read_u64(d, &format!("hugetlb.{size}.failcnt"))?.unwrap_or(0),
            },
            Place::V2(d) => HugetlbStats {
                usage: read_u64(d, &format!("hugetlb.{size}.current"))?.unwrap_or(0),
                max: 0,
                failcnt: keyed_value(d, &format!("hugetlb.{size}.events"), "max")?.unwrap_or(0),
            },
        };
        out.insert(size, st);
    }
    Ok(())
}

pub(crate) fn collect(cg: &Cgroup) -> Result<Stats, CgroupError> {
    let mut s = Stats::default();
    match cg.place("cpu") {
        Some(Place::V2(d)) => cpu_v2(&mut s.cpu, d)?,
        Some(Place::V1(d)) => cpu_v1(&mut s.cpu, Some(d), cg.v1_path("cpuacct"))?,
        None => cpu_v1(&mut s.cpu, None, cg.v1_path("cpuacct"))?,
    }
    if let Some(Place::V1(d) | Place::V2(d)) = cg.place("cpuset") {
        let eff = |f: &str, g: &str| -> Result<Vec<u16>, CgroupError> {
            let t = read_opt(d, f)?
                .filter(|t| !t.trim().is_empty())
                .or(read_opt(d, g)?);
            Ok(t.map(|t| cpu_list(&t)).unwrap_or_default())
        };
        s.cpuset.cpus = eff("cpuset.effective_cpus", "cpuset.cpus")?;
        s.cpuset.mems = eff("cpuset.effective_mems", "cpuset.mems")?;
    }
    if let Some(p) = cg.place("memory") {
        memory(&mut s.memory, p)?;
    }
    if let Some(Place::V1(d) | Place::V2(d)) = cg.place("pids") {
        s.pids.current = read_u64(d, "pids.current")?.unwrap_or(0);
        s.pids.limit = unlimited_as_zero(read_u64(d, "pids.max")?);
    }
    match cg.place("blkio").or_else(|| cg.place("io")) {
        Some(Place::V1(d)) => blkio_v1(&mut s.blkio, d)?,
        Some(Place::V2(d)) => io_v2(&mut s.blkio, d)?,
        None => {}
    }
    if let Some(p) = cg.place("hugetlb") {
        hugetlb(&mut s.hugetlb, p)?;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_list("0-3,5\n"), vec![0, 1, 2, 3, 5]);
        assert_eq!(cpu_list(""), Vec::<u16>::new());
    }

    #[test]
    fn json_shape_like_runc() {
        let mut s = Stats::default();
        s.memory.usage.limit = 5;
        s.pids.current = 2;
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v["memory"]["usage"],
            serde_json::json!({"limit": 5, "failcnt": 0})
        );
        assert_eq!(v["pids"], serde_json::json!({"current": 2}));
        assert_eq!(
            v["cpu"]["usage"],
            serde_json::json!({"kernel": 0, "user": 0})
        );
        assert!(v["memory"].get("kernelTCP").is_some());
    }
}
