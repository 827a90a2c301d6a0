//! confab-bench: the load generator of Confab. Each scenario is a subcommand that prints a
//! table and can write its figures as JSON (`--out FILE`); `--smoke` runs it at a tiny size and
//! exits non-zero when anything was lost or the figures are not sane. Every target is on the
//! loopback range, and every loop is bounded in count and time. See docs/benchmarks.md.

mod accounts;
mod direct;
mod group;
mod idle;
mod relay;
mod sync;
mod sys;
mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};

use crate::accounts::AccountSource;
use crate::direct::{Backend, DirectParams, DirectResult};
use crate::sys::CpuProbe;
use crate::ws::Connector;

/// Confab load generator.
#[derive(Parser)]
#[command(name = "confab-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Clients sending direct messages at stepped rates: latency, delivery, loss.
    Direct(DirectCmd),
    /// One large group: time until every member has a message, and sustained group rate.
    Group(GroupCmd),
    /// Many idle authenticated connections: connect rate and server memory per connection.
    Idle(IdleCmd),
    /// A user back after missing messages in many conversations: time to catch up.
    Sync(SyncCmd),
    /// The `direct` load against the built-in reference relay (what this machine can do).
    Limit(LimitCmd),
    /// Serve the reference relay on its own (`/ws?me=ID`, no auth, no storage).
    Relay(RelayCmd),
    /// Compare a Confab `direct` report with a `limit` report.
    Compare(CompareCmd),
    /// Create (or refresh) benchmark accounts in the `--accounts` cache ahead of the runs.
    Accounts(AccountsCmd),
}

#[derive(Args)]
struct AccountsCmd {
    #[command(flatten)]
    common: Common,
    /// Username prefix, as the scenario uses it (e.g. bench-dm-).
    #[arg(long)]
    prefix: String,
    /// Accounts {prefix}00000 … up to this many.
    #[arg(long)]
    count: usize,
}

/// Flags every scenario shares.
#[derive(Args, Clone)]
struct Common {
    /// The Confab server (a loopback address).
    #[arg(long, default_value = "127.0.0.1:8080", env = "CONFAB_BENCH_SERVER")]
    server: SocketAddr,
    /// JSON file caching the benchmark accounts and their tokens between runs.
    #[arg(long, env = "CONFAB_BENCH_ACCOUNTS")]
    accounts: Option<PathBuf>,
    /// Write the report as JSON to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Tiny preset for CI: exit non-zero if anything was lost or the report is not sane.
    #[arg(long)]
    smoke: bool,
    /// The server's process id, to report its CPU use and memory.
    #[arg(long, env = "CONFAB_BENCH_SERVER_PID")]
    server_pid: Option<u32>,
    /// Loopback source addresses to connect from (127.0.0.2, .3, …), round-robin.
    #[arg(long, default_value_t = 8)]
    source_ips: usize,
    /// Password of the benchmark accounts.
    #[arg(long, default_value = "Bench-pass-1")]
    password: String,
    /// Registrations and logins in flight at once.
    #[arg(long, default_value_t = 8)]
    register_parallel: usize,
    /// WebSocket connections being opened at once.
    #[arg(long, default_value_t = 64)]
    connect_parallel: usize,
}

impl Common {
    fn accounts(&self) -> AccountSource {
        AccountSource {
            cache: self.accounts.clone(),
            password: self.password.clone(),
            parallel: self.register_parallel,
        }
    }

    fn connector(&self, read_buffer: usize) -> Result<Connector> {
        Connector::new(self.server, self.source_ips, read_buffer)
    }

    fn probe(&self) -> CpuProbe {
        CpuProbe {
            server_pid: self.server_pid,
            relay_in_process: false,
        }
    }
}

#[derive(Args, Clone)]
struct DirectLoad {
    #[command(flatten)]
    common: Common,
    /// Clients online.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Aggregate offered rates to step through, messages per second.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "2000,4000,8000,16000,32000"
    )]
    steps: Vec<u32>,
    /// Seconds per step.
    #[arg(long, default_value_t = 10.0)]
    step_secs: f64,
    /// Seconds after a step for late messages before counting losses.
    #[arg(long, default_value_t = 5.0)]
    drain_secs: f64,
    /// Contacts per client; each send goes to one of them at random.
    #[arg(long, default_value_t = 8)]
    contacts: usize,
    /// Filler characters in every message.
    #[arg(long, default_value_t = 32)]
    pad: usize,
    /// Address sends to the peer user instead of the conversation opened in warm-up.
    #[arg(long)]
    by_user: bool,
    /// A step passes when its p99 is below this and nothing was lost.
    #[arg(long, default_value_t = 100.0)]
    p99_ms: f64,
    /// Run every step even after one fails.
    #[arg(long)]
    keep_going: bool,
    #[arg(long, default_value = "bench-dm-")]
    user_prefix: String,
    /// Worker threads of the in-process relay (`limit`, `--with-limit`).
    #[arg(long, default_value_t = 2)]
    relay_threads: usize,
}

impl DirectLoad {
    fn params(&self) -> DirectParams {
        let mut p = DirectParams {
            clients: self.clients,
            steps: self.steps.clone(),
            step_secs: self.step_secs,
            drain_secs: self.drain_secs,
            contacts: self.contacts,
            pad: self.pad,
            by_user: self.by_user,
            p99_target_ms: self.p99_ms,
            keep_going: self.keep_going,
            connect_parallel: self.common.connect_parallel,
            user_prefix: self.user_prefix.clone(),
        };
        if self.common.smoke {
            p.clients = 20;
            p.steps = vec![200];
            p.step_secs = 2.0;
            p.drain_secs = 3.0;
            p.contacts = 4;
            p.keep_going = true;
        }
        p
    }
}

#[derive(Args)]
struct DirectCmd {
    #[command(flatten)]
    load: DirectLoad,
    /// Also run the same load against the in-process relay and report Confab as a fraction.
    #[arg(long)]
    with_limit: bool,
}

#[derive(Args)]
struct LimitCmd {
    #[command(flatten)]
    load: DirectLoad,
}

#[derive(Args)]
struct GroupCmd {
    #[command(flatten)]
    common: Common,
    /// Members, all online (the server's --max-group-members must allow it).
    #[arg(long, default_value_t = 1000)]
    members: usize,
    /// Messages of the latency phase, sent one at a time.
    #[arg(long, default_value_t = 50)]
    sends: usize,
    /// Messages of the throughput phase.
    #[arg(long, default_value_t = 200)]
    burst: usize,
    /// Throughput phase: messages not yet delivered to everyone, at most.
    #[arg(long, default_value_t = 16)]
    window: usize,
    /// Throughput phase: members who take turns sending.
    #[arg(long, default_value_t = 8)]
    senders: usize,
    /// Pause between latency-phase sends, milliseconds.
    #[arg(long, default_value_t = 20)]
    gap_ms: u64,
    /// Seconds a message may take to reach everyone before it counts as incomplete.
    #[arg(long, default_value_t = 30.0)]
    timeout_secs: f64,
    #[arg(long, default_value_t = 32)]
    pad: usize,
    #[arg(long, default_value = "bench-gm-")]
    user_prefix: String,
}

#[derive(Args)]
struct IdleCmd {
    #[command(flatten)]
    common: Common,
    /// Connections to open.
    #[arg(long, default_value_t = 10_000)]
    conns: usize,
    /// Connections per account (Confab caps an account's connections: 20 by default); the
    /// connections share ceil(conns / per-user) accounts.
    #[arg(long, default_value_t = 16)]
    per_user: usize,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 256)]
    parallel: usize,
    /// Seconds to hold them open after the last one connected.
    #[arg(long, default_value_t = 10.0)]
    hold_secs: f64,
    /// Seconds between pings on each connection (under the server's idle timeout).
    #[arg(long, default_value_t = 20.0)]
    ping_secs: f64,
    #[arg(long, default_value = "bench-idle-")]
    user_prefix: String,
}

#[derive(Args)]
struct SyncCmd {
    #[command(flatten)]
    common: Common,
    /// Conversations with missed messages.
    #[arg(long, default_value_t = 100)]
    conversations: usize,
    /// Missed messages per conversation.
    #[arg(long, default_value_t = 100)]
    per_conversation: usize,
    /// Setup: sends in flight per sender.
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// History requests in flight while syncing.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// History page size (capped by the server).
    #[arg(long, default_value_t = 200)]
    page: u32,
    #[arg(long, default_value = "bench-sync-")]
    user_prefix: String,
}

#[derive(Args)]
struct RelayCmd {
    /// Address to listen on (loopback).
    #[arg(long, default_value = "127.0.0.1:9000")]
    bind: SocketAddr,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 3600)]
    duration_secs: u64,
}

#[derive(Args)]
struct CompareCmd {
    /// A `direct` report (JSON).
    confab: PathBuf,
    /// A `limit` report (JSON).
    limit: PathBuf,
}

/// What `--out` writes.
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    scenario: String,
    smoke: bool,
    server: String,
    unix_time: u64,
    machine: sys::Machine,
    command: Vec<String>,
    result: serde_json::Value,
    /// Sanity checks that failed (a smoke run exits non-zero when any did).
    failed_checks: Vec<String>,
}

fn finish(
    common: &Common,
    scenario: &str,
    result: serde_json::Value,
    failed: Vec<String>,
) -> Result<()> {
    let report = Report {
        scenario: scenario.into(),
        smoke: common.smoke,
        server: common.server.to_string(),
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        machine: sys::machine(),
        command: std::env::args().collect(),
        result,
        failed_checks: failed.clone(),
    };
    if let Some(path) = &common.out {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    if !failed.is_empty() {
        for f in &failed {
            eprintln!("check failed: {f}");
        }
        if common.smoke {
            bail!("{scenario}: {} sanity check(s) failed", failed.len());
        }
    }
    Ok(())
}

fn direct_checks(r: &DirectResult, failed: &mut Vec<String>) {
    if r.steps.is_empty() {
        failed.push(format!("{}: no step ran", r.backend));
    }
    for s in &r.steps {
        let at = format!("{} at {} msg/s", r.backend, s.offered);
        if s.sent == 0 || s.received == 0 || s.delivered_per_s <= 0.0 {
            failed.push(format!("{at}: nothing delivered"));
        }
        if s.lost > 0 || s.unacked > 0 || s.received < s.sent {
            failed.push(format!(
                "{at}: {} lost, {} unacknowledged, {} of {} received",
                s.lost, s.unacked, s.received, s.sent
            ));
        }
        if s.refused > 0 {
            failed.push(format!(
                "{at}: {} sends refused ({})",
                s.refused,
                s.first_error.as_deref().unwrap_or("?")
            ));
        }
        if s.disconnects > 0 {
            failed.push(format!("{at}: {} clients disconnected", s.disconnects));
        }
    }
}

async fn run_limit(load: &DirectLoad) -> Result<DirectResult> {
    let relay = relay::Relay::start("127.0.0.1:0".parse()?, load.relay_threads)?;
    eprintln!("reference relay listening on {}", relay.addr);
    let connector = Connector::new(relay.addr, load.common.source_ips, 16 * 1024)?;
    let probe = CpuProbe {
        server_pid: None,
        relay_in_process: true,
    };
    let r = direct::run(&load.params(), Backend::Relay, &connector, probe).await;
    tokio::task::block_in_place(|| relay.stop());
    r
}

/// The direct results inside a report: one, or Confab's and the relay's.
fn direct_results(report: &Report) -> Result<Vec<DirectResult>> {
    let v = &report.result;
    if v.get("backend").is_some() {
        return Ok(vec![serde_json::from_value(v.clone())?]);
    }
    let mut out = Vec::new();
    for key in ["confab", "limit"] {
        if let Some(r) = v.get(key).filter(|r| !r.is_null()) {
            out.push(serde_json::from_value(r.clone())?);
        }
    }
    Ok(out)
}

fn read_report(path: &PathBuf) -> Result<Report> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}

#[tokio::main]
async fn main() -> Result<()> {
    sys::epoch();
    sys::raise_nofile();
    let cli = Cli::parse();
    match cli.command {
        Command::Direct(cmd) => {
            let load = &cmd.load;
            let common = &load.common;
            let connector = common.connector(16 * 1024)?;
            let confab = direct::run(
                &load.params(),
                Backend::Confab(&common.accounts()),
                &connector,
                common.probe(),
            )
            .await?;
            let mut failed = Vec::new();
            direct_checks(&confab, &mut failed);
            let (limit, fraction) = if cmd.with_limit {
                let limit = run_limit(load).await?;
                direct_checks(&limit, &mut failed);
                let f = direct::print_comparison(&confab, &limit);
                (Some(limit), f)
            } else {
                (None, None)
            };
            let result = serde_json::json!({
                "confab": confab,
                "limit": limit,
                "fraction_of_limit": fraction,
            });
            finish(common, "direct", result, failed)
        }
        Command::Limit(cmd) => {
            let r = run_limit(&cmd.load).await?;
            let mut failed = Vec::new();
            direct_checks(&r, &mut failed);
            finish(&cmd.load.common, "limit", serde_json::to_value(&r)?, failed)
        }
        Command::Group(cmd) => {
            let c = &cmd.common;
            let mut p = group::GroupParams {
                members: cmd.members,
                sends: cmd.sends,
                burst: cmd.burst,
                window: cmd.window,
                senders: cmd.senders,
                gap_ms: cmd.gap_ms,
                timeout_secs: cmd.timeout_secs,
                pad: cmd.pad,
                connect_parallel: c.connect_parallel,
                user_prefix: cmd.user_prefix.clone(),
            };
            if c.smoke {
                p.members = 20;
                p.sends = 5;
                p.burst = 10;
                p.window = 4;
                p.timeout_secs = 10.0;
            }
            let r = group::run(&p, &c.accounts(), &c.connector(16 * 1024)?, c.probe()).await?;
            let mut failed = Vec::new();
            if r.incomplete > 0 || r.missing > 0 {
                failed.push(format!(
                    "{} messages did not reach every member ({} deliveries missing)",
                    r.incomplete, r.missing
                ));
            }
            if r.msgs_per_s <= 0.0 || r.latency.all_p50_ms <= 0.0 {
                failed.push("no group message was delivered to everyone".into());
            }
            if r.disconnects > 0 {
                failed.push(format!("{} members disconnected", r.disconnects));
            }
            if r.refused > 0 {
                failed.push(format!(
                    "{} sends refused ({})",
                    r.refused,
                    r.first_error.as_deref().unwrap_or("?")
                ));
            }
            finish(c, "group", serde_json::to_value(&r)?, failed)
        }
        Command::Idle(cmd) => {
            let c = &cmd.common;
            let mut p = idle::IdleParams {
                conns: cmd.conns,
                per_user: cmd.per_user,
                connect_parallel: cmd.parallel,
                hold_secs: cmd.hold_secs,
                ping_secs: cmd.ping_secs,
                source_ips: c.source_ips,
                user_prefix: cmd.user_prefix.clone(),
            };
            if c.smoke {
                p.conns = 200;
                p.hold_secs = 2.0;
                p.ping_secs = 1.0;
            }
            let r = idle::run(&p, &c.accounts(), &c.connector(4 * 1024)?, c.probe()).await?;
            let mut failed = Vec::new();
            if r.opened == 0 || r.conns_per_s <= 0.0 {
                failed.push("no connection opened".into());
            }
            if r.failed > 0 || r.opened < r.attempted as u64 {
                failed.push(format!(
                    "{} of {} connections failed ({})",
                    r.failed,
                    r.attempted,
                    r.first_error.as_deref().unwrap_or("?")
                ));
            }
            if r.alive_after_hold < r.opened {
                failed.push(format!(
                    "{} connections closed during the hold",
                    r.opened - r.alive_after_hold
                ));
            }
            finish(c, "idle", serde_json::to_value(&r)?, failed)
        }
        Command::Sync(cmd) => {
            let c = &cmd.common;
            let mut p = sync::SyncParams {
                conversations: cmd.conversations,
                per_conversation: cmd.per_conversation,
                window: cmd.window,
                parallel: cmd.parallel,
                page: cmd.page,
                connect_parallel: c.connect_parallel,
                user_prefix: cmd.user_prefix.clone(),
            };
            if c.smoke {
                p.conversations = 5;
                p.per_conversation = 10;
                p.page = 4;
            }
            let r = sync::run(&p, &c.accounts(), &c.connector(64 * 1024)?, c.probe()).await?;
            let mut failed = Vec::new();
            if !r.complete {
                failed.push(format!(
                    "the user got {} of {} missed messages",
                    r.run_messages, r.expected
                ));
            }
            if r.conversations_with_unread < p.conversations {
                failed.push(format!(
                    "{} of {} conversations showed unread messages",
                    r.conversations_with_unread, p.conversations
                ));
            }
            finish(c, "sync", serde_json::to_value(&r)?, failed)
        }
        Command::Relay(cmd) => {
            let relay = relay::Relay::start(cmd.bind, cmd.threads)?;
            println!(
                "reference relay on ws://{}/ws?me=ID (stops after {} s or on Ctrl-C)",
                relay.addr, cmd.duration_secs
            );
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(cmd.duration_secs)) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            tokio::task::block_in_place(|| relay.stop());
            Ok(())
        }
        Command::Accounts(cmd) => {
            let c = &cmd.common;
            if c.accounts.is_none() {
                bail!("give --accounts FILE: the accounts are kept there");
            }
            let names = accounts::usernames(&cmd.prefix, cmd.count);
            let (got, created) = c
                .accounts()
                .ensure_counted(&c.connector(4 * 1024)?, &names)
                .await?;
            println!(
                "{} accounts {}… ready ({created} created)",
                got.len(),
                cmd.prefix
            );
            Ok(())
        }
        Command::Compare(cmd) => {
            let mut all = direct_results(&read_report(&cmd.confab)?)?;
            all.extend(direct_results(&read_report(&cmd.limit)?)?);
            let confab = all.iter().find(|r| r.backend == "confab");
            let relay = all.iter().find(|r| r.backend == "relay");
            match (confab, relay) {
                (Some(a), Some(b)) => {
                    direct::print_comparison(a, b);
                    Ok(())
                }
                _ => bail!("need one Confab direct report and one limit report"),
            }
        }
    }
}
