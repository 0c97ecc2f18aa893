//! Parsers for /proc files: mountinfo, status, limits.

use std::fs;

/// One line of /proc/<pid>/mountinfo.
#[derive(Debug, Clone)]
pub struct MountInfo {
    pub id: u32,
    pub parent: u32,
    pub dev: String,
    pub root: String,
    pub mount_point: String,
    /// Per-mount options (ro, nosuid, nodev, noexec, relatime, ...).
    pub opts: Vec<String>,
    /// Optional fields: shared:N, master:N, propagate_from:N, unbindable.
    pub optional: Vec<String>,
    pub fstype: String,
    pub source: String,
    /// Superblock options (mode=755, size=65536k, ...).
    pub super_opts: Vec<String>,
}

/// Undoes the octal escapes (\040 for space, ...) of mountinfo paths.
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses mountinfo text.
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    let mut out = Vec::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        let Some(sep) = f.iter().position(|x| *x == "-") else { continue };
        if f.len() < 10 || sep < 6 || f.len() < sep + 4 {
            continue;
        }
        out.push(MountInfo {
            id: f[0].parse().unwrap_or(0),
            parent: f[1].parse().unwrap_or(0),
            dev: f[2].to_string(),
            root: unescape(f[3]),
            mount_point: unescape(f[4]),
            opts: f[5].split(',').map(str::to_string).collect(),
            optional: f[6..sep].iter().map(|s| s.to_string()).collect(),
            fstype: f[sep + 1].to_string(),
            source: unescape(f[sep + 2]),
            super_opts: f[sep + 3].split(',').map(str::to_string).collect(),
        });
    }
    out
}

/// Mounts of the calling process.
pub fn mountinfo(pid: &str) -> Vec<MountInfo> {
    parse_mountinfo(&fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default())
}

/// The mount visible at `path`: the last one mounted there (later mounts cover earlier ones).
pub fn mount_at<'a>(mounts: &'a [MountInfo], path: &str) -> Option<&'a MountInfo> {
    mounts.iter().rev().find(|m| m.mount_point == path)
}

/// The value of one `Key:\tvalue` field of /proc/<pid>/status.
pub fn status_field(pid: &str, key: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_in(&text, key)
}

pub fn status_field_in(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == key).then(|| v.trim().to_string())
    })
}

/// One row of /proc/<pid>/limits: (soft, hard), u64::MAX for "unlimited".
pub fn limit(text: &str, name: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let rest = line[name.len()..].split_whitespace().collect::<Vec<_>>();
    let num = |s: &str| if s == "unlimited" { Some(u64::MAX) } else { s.parse().ok() };
    Some((num(rest.first()?)?, num(rest.get(1)?)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mountinfo_line() {
        let m = parse_mountinfo("36 25 0:32 / /sys/fs/cgroup/memory rw,nosuid shared:7 master:2 - cgroup cgroup rw,memory\n");
        assert_eq!(m[0].mount_point, "/sys/fs/cgroup/memory");
        assert_eq!(m[0].optional, vec!["shared:7", "master:2"]);
        assert_eq!(m[0].fstype, "cgroup");
        assert_eq!(m[0].super_opts, vec!["rw", "memory"]);
        assert_eq!(unescape("/a\\040b"), "/a b");
    }

    #[test]
    fn parses_limits() {
        let t = "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 4096                 files     \nMax core file size        unlimited            unlimited            bytes\n";
        assert_eq!(limit(t, "Max open files"), Some((1024, 4096)));
        assert_eq!(limit(t, "Max core file size"), Some((u64::MAX, u64::MAX)));
    }
}
