//! `idle`: N authenticated connections that only ping now and then. Reports how fast they open
//! (until each has its `hello`) and the server's resident memory per connection (`VmRSS` of
//! the server's process before and after). Connections come from several loopback source
//! addresses so the ephemeral ports of one address do not run out, and share a few accounts
//! (many connections per user are allowed).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::accounts::{usernames, AccountSource};
use crate::sys::{self, ms, percentile, round1, CpuProbe, CpuUsage};
use crate::ws::{self, Connector};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdleParams {
    pub conns: usize,
    /// Connections per account.
    pub per_user: usize,
    pub connect_parallel: usize,
    pub hold_secs: f64,
    pub ping_secs: f64,
    pub source_ips: usize,
    pub user_prefix: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdleResult {
    pub params: IdleParams,
    /// This process's open-file limit (each connection takes one descriptor here and one in
    /// the server).
    pub nofile_limit: u64,
    pub attempted: usize,
    pub users: usize,
    pub opened: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    pub connect_secs: f64,
    pub conns_per_s: f64,
    pub connect_p50_ms: f64,
    pub connect_p99_ms: f64,
    pub connect_cpu: CpuUsage,
    pub hold_cpu: CpuUsage,
    /// Still open at the end of the hold period.
    pub alive_after_hold: u64,
    pub server_rss_before_mib: Option<f64>,
    pub server_rss_after_mib: Option<f64>,
    pub server_rss_per_conn_kib: Option<f64>,
    pub gen_rss_per_conn_kib: Option<f64>,
    /// Why the memory figures may not be clean, when known.
    pub rss_note: Option<String>,
}

fn mib(kib: Option<u64>) -> Option<f64> {
    kib.map(|k| sys::round1(k as f64 / 1024.0))
}

pub async fn run(
    p: &IdleParams,
    source: &AccountSource,
    connector: &Connector,
    probe: CpuProbe,
) -> Result<IdleResult> {
    if p.conns == 0 || p.per_user == 0 {
        bail!("idle needs at least one connection and one user");
    }
    let (nofile, _) = sys::raise_nofile();
    // Leave room for the runtime, the account client and the process itself.
    let fits = (nofile as usize).saturating_sub(256);
    let attempted = if p.conns > fits {
        eprintln!(
            "warning: {} connections do not fit in this process's open-file limit of {nofile}; \
             opening {fits}",
            p.conns
        );
        fits
    } else {
        p.conns
    };
    let (accounts, created) = source
        .ensure_counted(
            connector,
            &usernames(&p.user_prefix, attempted.div_ceil(p.per_user).max(1)),
        )
        .await?;
    let tokens: Arc<Vec<String>> = Arc::new(accounts.into_iter().map(|a| a.token).collect());
    let rss_note = (created > 0 && probe.server_pid.is_some()).then(|| {
        format!(
            "{created} accounts were registered just before: the server's memory still holds \
             what password hashing used, which new connections may reuse. For a clean \
             per-connection figure restart the server and run again with the same --accounts file"
        )
    });
    if let Some(n) = &rss_note {
        eprintln!("note: {n}");
    }

    // Let the server's memory settle (threads of the blocking pool wind down) before the
    // baseline: at most 10 s, until two readings a second apart agree within 1 MiB.
    let mut rss_before = sys::rss_kib(probe.server_pid);
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = sys::rss_kib(probe.server_pid);
        let settled = match (rss_before, now) {
            (Some(a), Some(b)) => a.abs_diff(b) < 1024,
            _ => true,
        };
        rss_before = now;
        if settled {
            break;
        }
    }
    let own_before = sys::rss_kib(None);

    let stop = CancellationToken::new();
    let permits = Arc::new(Semaphore::new(p.connect_parallel.max(1)));
    let opened = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let ended = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(attempted)));
    let connector = Arc::new(connector_clone(connector, p.source_ips)?);
    let ping = Duration::from_secs_f64(p.ping_secs.max(1.0));

    let cpu0 = probe.snap();
    let started = Instant::now();
    let mut handles = Vec::with_capacity(attempted);
    for i in 0..attempted {
        let permit = permits.clone().acquire_owned().await?;
        let token = tokens.clone();
        let (connector, stop) = (connector.clone(), stop.clone());
        let (opened, failed, ended) = (opened.clone(), failed.clone(), ended.clone());
        let (first_error, latencies) = (first_error.clone(), latencies.clone());
        handles.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = tokio::time::timeout(
                Duration::from_secs(30),
                connector.confab(&token[i % token.len()]),
            )
            .await;
            drop(permit);
            let ws = match r {
                Ok(Ok((ws, _hello))) => ws,
                Ok(Err(e)) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    first_error.lock().unwrap().get_or_insert(format!("{e:#}"));
                    return;
                }
                Err(_) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    first_error
                        .lock()
                        .unwrap()
                        .get_or_insert("no hello within 30 s".into());
                    return;
                }
            };
            latencies
                .lock()
                .unwrap()
                .push(t.elapsed().as_micros() as u64);
            opened.fetch_add(1, Ordering::Relaxed);
            if ws::drive(ws, None, stop, ping, |_| {}).await.is_err() {
                ended.fetch_add(1, Ordering::Relaxed);
            }
        }));
        if (i + 1) % 5000 == 0 {
            eprintln!(
                "  {} connections started ({:.1} s)",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    // Every task ends its connect phase within its own 30 s timeout; the deadline only guards
    // against a task that died.
    let wait_deadline = Instant::now() + Duration::from_secs(120);
    while opened.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < attempted as u64
        && Instant::now() < wait_deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let connect_secs = started.elapsed().as_secs_f64();
    let cpu1 = probe.snap();
    let n_open = opened.load(Ordering::Relaxed);
    eprintln!(
        "{n_open} connections open ({} failed) in {connect_secs:.1} s",
        failed.load(Ordering::Relaxed)
    );

    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu2 = probe.snap();
    let hold = Duration::from_secs_f64(p.hold_secs);
    let rss_after_a = sys::rss_kib(probe.server_pid);
    tokio::time::sleep(hold).await;
    let rss_after_b = sys::rss_kib(probe.server_pid);
    let own_after = sys::rss_kib(None);
    let cpu3 = probe.snap();
    let alive = n_open - ended.load(Ordering::Relaxed);
    stop.cancel();
    ws::join_bounded(handles, Duration::from_secs(30)).await;

    let mut lat = std::mem::take(&mut *latencies.lock().unwrap());
    lat.sort_unstable();
    let rss_after = match (rss_after_a, rss_after_b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let per_conn = |before: Option<u64>, after: Option<u64>| match (before, after) {
        (Some(b), Some(a)) if n_open > 0 => Some(round1((a as f64 - b as f64) / n_open as f64)),
        _ => None,
    };
    let result = IdleResult {
        params: p.clone(),
        nofile_limit: nofile,
        attempted,
        users: tokens.len(),
        opened: n_open,
        failed: failed.load(Ordering::Relaxed),
        first_error: first_error.lock().unwrap().clone(),
        connect_secs: sys::round2(connect_secs),
        conns_per_s: round1(n_open as f64 / connect_secs.max(1e-6)),
        connect_p50_ms: ms(percentile(&lat, 50.0)),
        connect_p99_ms: ms(percentile(&lat, 99.0)),
        connect_cpu: probe.usage(&cpu0, &cpu1),
        hold_cpu: probe.usage(&cpu2, &cpu3),
        alive_after_hold: alive,
        server_rss_before_mib: mib(rss_before),
        server_rss_after_mib: mib(rss_after),
        server_rss_per_conn_kib: per_conn(rss_before, rss_after),
        gen_rss_per_conn_kib: per_conn(own_before, own_after),
        rss_note,
    };
    print(&result);
    Ok(result)
}

/// Idle connections get small read buffers: tens of thousands of them share this process.
fn connector_clone(c: &Connector, source_ips: usize) -> Result<Connector> {
    Connector::new(c.server(), source_ips, 4 * 1024)
}

pub fn print(r: &IdleResult) {
    let opt = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into());
    println!(
        "\nidle — {} connections over {} users",
        r.attempted, r.users
    );
    println!(
        "{:>8} {:>7} {:>9} {:>8} {:>9} {:>9} {:>7} {:>9} {:>9} {:>10} {:>10} {:>6} {:>6} {:>6}",
        "opened",
        "failed",
        "secs",
        "conn/s",
        "p50 ms",
        "p99 ms",
        "alive",
        "srv MiB0",
        "srv MiB1",
        "srv KiB/c",
        "gen KiB/c",
        "gen%",
        "srv%",
        "all%"
    );
    println!(
        "{:>8} {:>7} {:>9.2} {:>8.0} {:>9.2} {:>9.2} {:>7} {:>9} {:>9} {:>10} {:>10} {:>6.1} {:>6} {:>6}",
        r.opened,
        r.failed,
        r.connect_secs,
        r.conns_per_s,
        r.connect_p50_ms,
        r.connect_p99_ms,
        r.alive_after_hold,
        opt(r.server_rss_before_mib),
        opt(r.server_rss_after_mib),
        opt(r.server_rss_per_conn_kib),
        opt(r.gen_rss_per_conn_kib),
        r.connect_cpu.gen_cpu_pct,
        opt(r.connect_cpu.server_cpu_pct),
        opt(r.connect_cpu.machine_cpu_pct),
    );
    println!(
        "(CPU % of one core while connecting; while holding: gen {:.1}%, server {}%, machine {}%)",
        r.hold_cpu.gen_cpu_pct,
        opt(r.hold_cpu.server_cpu_pct),
        opt(r.hold_cpu.machine_cpu_pct)
    );
    if let Some(e) = &r.first_error {
        println!("first error: {e}");
    }
    if let Some(n) = &r.rss_note {
        println!("note: {n}");
    }
}
