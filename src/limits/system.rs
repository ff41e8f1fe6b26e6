//! What the machine offers: physical memory, and the control group's limit
//! when the process runs inside one (containers, CI runners, `systemd-run`).

/// Bytes of memory this process can count on: the smaller of physical memory
/// and the control group's limit, or `None` when neither can be read.
pub fn usable_memory() -> Option<u64> {
    let physical = physical_memory();
    let group = cgroup_limit();
    match (physical, group) {
        (Some(p), Some(g)) => Some(p.min(g)),
        (p, g) => p.or(g),
    }
}

/// `MemTotal` from `/proc/meminfo`.
fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo(&text)
}

fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The memory limit of the control group (v2, then v1); `None` when unlimited.
fn cgroup_limit() -> Option<u64> {
    [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|path| parse_limit(&std::fs::read_to_string(path).ok()?))
}

/// A limit file's number; "max" and v1's "no limit" sentinel (near `i64::MAX`) are none.
fn parse_limit(text: &str) -> Option<u64> {
    let v: u64 = text.trim().parse().ok()?;
    (v < 1 << 60).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_total_in_bytes() {
        let text = "MemFree:  100 kB\nMemTotal:       24683584 kB\n";
        assert_eq!(parse_meminfo(text), Some(24_683_584 * 1024));
        assert_eq!(parse_meminfo("nothing here"), None);
    }

    #[test]
    fn cgroup_limits() {
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("9223372036854771712\n"), None);
        assert_eq!(parse_limit("2147483648\n"), Some(2 << 30));
    }
}
