//! Process-level measurements: a shared monotonic clock, CPU time (own process, a server
//! process, or the in-process relay's threads), resident memory, and the open-file limit.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Serialize;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// The instant every timestamp embedded in a benchmark message is relative to.
pub fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// Microseconds since [`epoch`]. Senders and receivers live in this process, so embedding
/// this in a message and reading it back at the recipient gives the end-to-end latency.
pub fn now_us() -> u64 {
    epoch().elapsed().as_micros() as u64
}

/// Microseconds since [`epoch`] of a given instant (0 for instants before it).
pub fn instant_us(t: Instant) -> u64 {
    t.saturating_duration_since(epoch()).as_micros() as u64
}

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new (soft, hard).
pub fn raise_nofile() -> (u64, u64) {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return (0, 0);
        }
        if lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        (lim.rlim_cur, lim.rlim_max)
    }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// User + system CPU seconds of this process.
pub fn self_cpu_secs() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we pass.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut ru) != 0 {
            return 0.0;
        }
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        tv(ru.ru_utime) + tv(ru.ru_stime)
    }
}

/// utime + stime (in seconds) from a `/proc/.../stat` line.
fn stat_cpu_secs(stat: &str) -> Option<f64> {
    // The command name may contain spaces; fields after it are space-separated.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ")": state is field 3, utime field 14, stime field 15 (1-based over the line).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// User + system CPU seconds of another process.
pub fn proc_cpu_secs(pid: u32) -> Option<f64> {
    stat_cpu_secs(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// User + system CPU seconds of this process's threads whose name starts with `prefix`.
pub fn threads_cpu_secs(prefix: &str) -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut total = 0.0;
    for entry in dir.flatten() {
        let path = entry.path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        if let Some(s) = std::fs::read_to_string(path.join("stat"))
            .ok()
            .and_then(|s| stat_cpu_secs(&s))
        {
            total += s;
        }
    }
    total
}

/// Resident set size in KiB (`VmRSS` of `/proc/PID/status`; `None` for this process's pid 0).
pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Thread name prefix of the in-process relay's runtime.
pub const RELAY_THREAD: &str = "confab-relay";

/// Where CPU time is read from while a measurement window runs.
#[derive(Debug, Clone, Copy)]
pub struct CpuProbe {
    /// The server's process, when known.
    pub server_pid: Option<u32>,
    /// The "server" is the relay running on named threads of this process.
    pub relay_in_process: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct CpuSnap {
    at: Instant,
    own: f64,
    relay: f64,
    server: Option<f64>,
    machine: Option<f64>,
}

/// CPU seconds the whole machine spent busy (everything but idle and I/O wait), all cores.
pub fn machine_busy_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<f64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …
    let total: f64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0.0);
    Some((total - idle) / clock_ticks())
}

/// CPU use over a window, in percent of one core (the machine has `nproc` × 100).
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
pub struct CpuUsage {
    pub gen_cpu_pct: f64,
    pub server_cpu_pct: Option<f64>,
    /// Every process on the machine, the generator and server included (at most nproc × 100):
    /// shows when the machine itself was saturated.
    #[serde(default)]
    pub machine_cpu_pct: Option<f64>,
}

impl CpuProbe {
    pub fn snap(&self) -> CpuSnap {
        let relay = if self.relay_in_process {
            threads_cpu_secs(RELAY_THREAD)
        } else {
            0.0
        };
        CpuSnap {
            at: Instant::now(),
            own: self_cpu_secs(),
            relay,
            server: if self.relay_in_process {
                Some(relay)
            } else {
                self.server_pid.and_then(proc_cpu_secs)
            },
            machine: machine_busy_secs(),
        }
    }

    pub fn usage(&self, a: &CpuSnap, b: &CpuSnap) -> CpuUsage {
        let wall = b.at.duration_since(a.at).as_secs_f64().max(1e-6);
        let own = (b.own - b.relay) - (a.own - a.relay);
        CpuUsage {
            gen_cpu_pct: round1(100.0 * own / wall),
            server_cpu_pct: match (a.server, b.server) {
                (Some(x), Some(y)) => Some(round1(100.0 * (y - x) / wall)),
                _ => None,
            },
            machine_cpu_pct: match (a.machine, b.machine) {
                (Some(x), Some(y)) => Some(round1(100.0 * (y - x) / wall)),
                _ => None,
            },
        }
    }
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The value at percentile `p` (0–100) of an ascending slice, nearest-rank.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Microseconds to milliseconds, two decimals.
pub fn ms(us: u64) -> f64 {
    round2(us as f64 / 1000.0)
}

pub fn dur_ms(d: Duration) -> f64 {
    round2(d.as_secs_f64() * 1000.0)
}

/// The machine line of a report.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub mem_total_gib: f64,
    pub nofile_limit: u64,
}

pub fn machine() -> Machine {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_default();
    let mem_total_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kib| round1(kib / 1024.0 / 1024.0))
        .unwrap_or(0.0);
    Machine {
        nproc,
        cpu_model,
        mem_total_gib,
        nofile_limit: raise_nofile().0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_handles_spaces_in_the_name() {
        let line = "123 (a b) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1";
        let secs = stat_cpu_secs(line).unwrap();
        assert!((secs - 300.0 / clock_ticks()).abs() < 1e-9);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[], 50.0), 0);
        assert_eq!(percentile(&[7], 99.0), 7);
    }

    #[test]
    fn own_measurements_are_readable() {
        assert!(rss_kib(None).unwrap() > 0);
        assert!(self_cpu_secs() >= 0.0);
        assert!(proc_cpu_secs(std::process::id()).is_some());
        assert!(machine_busy_secs().is_some());
    }
}
