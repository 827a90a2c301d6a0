//! `group`: one group with M members, all online. Two phases:
//!
//! 1. latency: `sends` messages one at a time; for each, the time from send until the last
//!    member has it (and until the first has it), p50/p99 over the sends;
//! 2. throughput: `burst` messages with at most `window` not yet delivered to every member,
//!    giving the sustained group messages/s (and member deliveries/s).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use confab_proto::{ConversationSummary, CreateGroup, Request};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::accounts::{usernames, AccountSource};
use crate::sys::{self, ms, percentile, round1, CpuProbe, CpuUsage};
use crate::ws::{self, Connector, Incoming};

const SEND_ID: u64 = 1 << 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupParams {
    pub members: usize,
    pub sends: usize,
    pub burst: usize,
    pub window: usize,
    /// Members who send in the throughput phase, round-robin.
    pub senders: usize,
    /// Pause between the latency phase's sends.
    pub gap_ms: u64,
    /// How long one message may take to reach everyone before it counts as incomplete.
    pub timeout_secs: f64,
    pub pad: usize,
    pub connect_parallel: usize,
    pub user_prefix: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latencies {
    pub all_p50_ms: f64,
    pub all_p99_ms: f64,
    pub all_max_ms: f64,
    pub first_p50_ms: f64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupResult {
    pub params: GroupParams,
    pub recipients: usize,
    pub setup_secs: f64,
    pub create_group_ms: f64,
    /// Latency phase.
    pub latency: Latencies,
    pub latency_cpu: CpuUsage,
    /// Throughput phase.
    pub burst_secs: f64,
    pub msgs_per_s: f64,
    pub deliveries_per_s: f64,
    pub burst_latency: Latencies,
    pub burst_cpu: CpuUsage,
    /// Messages not delivered to every member within the timeout.
    pub incomplete: u64,
    /// Member deliveries missing in total.
    pub missing: u64,
    pub duplicates: u64,
    pub disconnects: u64,
    /// Sends the server refused, and the first reason.
    pub refused: u64,
    pub first_error: Option<String>,
}

#[derive(Default)]
struct GMsg {
    sent_us: AtomicU64,
    ack_us: AtomicU64,
    count: AtomicU32,
    first_us: AtomicU64,
    last_us: AtomicU64,
}

struct Track {
    run: String,
    recipients: u32,
    msgs: Vec<GMsg>,
    /// (message, delivered to everyone) — false when the server refused it.
    done: mpsc::UnboundedSender<(usize, bool)>,
    refused: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
    duplicates: AtomicU64,
    disconnects: AtomicU64,
}

fn parse_k(text: &str, run: &str) -> Option<usize> {
    let rest = text.strip_prefix("gbench ")?;
    let mut it = rest.split(' ');
    if it.next()? != run {
        return None;
    }
    it.next()?.parse().ok()
}

impl Track {
    fn on_text(&self, seen: &mut [u64], frame: &str) {
        match Incoming::parse(frame) {
            Incoming::Text { text, .. } => {
                let Some(k) = parse_k(&text, &self.run) else {
                    return;
                };
                let Some(m) = self.msgs.get(k) else { return };
                let (word, bit) = (k / 64, 1u64 << (k % 64));
                if seen[word] & bit != 0 {
                    self.duplicates.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                seen[word] |= bit;
                let now = sys::now_us();
                m.first_us.fetch_min(now, Ordering::Relaxed);
                m.last_us.fetch_max(now, Ordering::Relaxed);
                if m.count.fetch_add(1, Ordering::AcqRel) + 1 == self.recipients {
                    let _ = self.done.send((k, true));
                }
            }
            Incoming::Ok(id) if id & SEND_ID != 0 => {
                if let Some(m) = self.msgs.get((id & !SEND_ID) as usize) {
                    m.ack_us.store(sys::now_us(), Ordering::Relaxed);
                }
            }
            Incoming::Err(Some(id), e) if id & SEND_ID != 0 => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                self.first_error
                    .lock()
                    .unwrap()
                    .get_or_insert_with(|| format!("{}: {}", e.code, e.message));
                let _ = self.done.send(((id & !SEND_ID) as usize, false));
            }
            _ => {}
        }
    }
}

fn latencies(track: &Track, range: std::ops::Range<usize>) -> Latencies {
    let mut all = Vec::new();
    let mut first = Vec::new();
    let mut ack = Vec::new();
    for m in &track.msgs[range] {
        let sent = m.sent_us.load(Ordering::Relaxed);
        if m.count.load(Ordering::Relaxed) == track.recipients {
            all.push(m.last_us.load(Ordering::Relaxed).saturating_sub(sent));
        }
        let f = m.first_us.load(Ordering::Relaxed);
        if f != u64::MAX {
            first.push(f.saturating_sub(sent));
        }
        let a = m.ack_us.load(Ordering::Relaxed);
        if a != 0 {
            ack.push(a.saturating_sub(sent));
        }
    }
    all.sort_unstable();
    first.sort_unstable();
    ack.sort_unstable();
    Latencies {
        all_p50_ms: ms(percentile(&all, 50.0)),
        all_p99_ms: ms(percentile(&all, 99.0)),
        all_max_ms: ms(all.last().copied().unwrap_or(0)),
        first_p50_ms: ms(percentile(&first, 50.0)),
        ack_p50_ms: ms(percentile(&ack, 50.0)),
        ack_p99_ms: ms(percentile(&ack, 99.0)),
    }
}

fn send_frame(id: u64, conv: i64, run: &str, k: usize, pad: &str) -> String {
    format!(
        r#"{{"id":{id},"type":"send","data":{{"to":{{"conversation":{conv}}},"client_msg_id":"g{run}-{k}","content":{{"type":"text","text":"gbench {run} {k} {pad}"}}}}}}"#
    )
}

pub async fn run(
    p: &GroupParams,
    source: &AccountSource,
    connector: &Connector,
    probe: CpuProbe,
) -> Result<GroupResult> {
    if p.members < 2 {
        bail!("a group needs at least 2 members");
    }
    let setup_started = Instant::now();
    let run_tag = format!("{:08x}", rand::random::<u32>());
    let accounts = source
        .ensure(connector, &usernames(&p.user_prefix, p.members))
        .await?;
    let started = Instant::now();
    let conns: Vec<Result<(ws::Ws, ws::HelloLimits)>> = futures_util::stream::iter(&accounts)
        .map(|a| connector.confab(&a.token))
        .buffered(p.connect_parallel.max(1))
        .collect()
        .await;
    let mut conns = conns.into_iter().collect::<Result<Vec<_>>>()?;
    eprintln!(
        "connected {} members in {:.1} s",
        conns.len(),
        started.elapsed().as_secs_f64()
    );
    let limits = conns[0].1.clone();
    if p.members > limits.max_group_members {
        bail!(
            "the server allows groups of at most {} members: start it with --max-group-members {}",
            limits.max_group_members,
            p.members
        );
    }
    let create = Request::CreateGroup(CreateGroup {
        name: format!("bench group {run_tag}"),
        members: accounts[1..].iter().map(|a| a.user_id).collect(),
    });
    let frame_len = confab_proto::ClientFrame {
        id: 1,
        request: create.clone(),
    }
    .encode()
    .len();
    if frame_len > limits.max_frame_bytes {
        bail!(
            "creating a group of {} takes a {frame_len}-byte frame, over the server's {}: start it \
             with --max-frame-bytes {}",
            p.members,
            limits.max_frame_bytes,
            frame_len.next_power_of_two()
        );
    }
    let t = Instant::now();
    let group: ConversationSummary = ws::call(&mut conns[0].0, 1, create).await?;
    let create_group_ms = sys::dur_ms(t.elapsed());
    eprintln!(
        "created group {} with {} members in {create_group_ms} ms",
        group.id, group.member_count
    );

    let total = p.sends + p.burst;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let track = Arc::new(Track {
        run: run_tag.clone(),
        recipients: (p.members - 1) as u32,
        msgs: (0..total)
            .map(|_| GMsg {
                first_us: AtomicU64::new(u64::MAX),
                ..Default::default()
            })
            .collect(),
        done: done_tx,
        refused: AtomicU64::new(0),
        first_error: std::sync::Mutex::new(None),
        duplicates: AtomicU64::new(0),
        disconnects: AtomicU64::new(0),
    });
    let stop = CancellationToken::new();
    // The first `senders` members send (round-robin in the throughput phase), as in a busy
    // group where several people talk; one sender alone would meet the per-account send limit.
    let senders = p.senders.clamp(1, p.members);
    let (out_txs, mut out_rxs): (Vec<_>, Vec<_>) = (0..senders)
        .map(|_| {
            let (tx, rx) = mpsc::channel::<String>(p.window.max(1) * 2 + 4);
            (tx, Some(rx))
        })
        .unzip();
    let mut handles = Vec::with_capacity(p.members);
    for (i, (ws, _)) in conns.into_iter().enumerate() {
        let tr = track.clone();
        let stop = stop.clone();
        let out = out_rxs.get_mut(i).and_then(Option::take);
        let words = total.div_ceil(64).max(1);
        handles.push(tokio::spawn(async move {
            let mut seen = vec![0u64; words];
            let ended = ws::drive(ws, out, stop, Duration::from_secs(20), |f| {
                tr.on_text(&mut seen, f)
            })
            .await;
            if ended.is_err() {
                tr.disconnects.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let setup_secs = round1(setup_started.elapsed().as_secs_f64());
    // The group's creation event fans out to everyone first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pad = "x".repeat(p.pad);
    let timeout = Duration::from_secs_f64(p.timeout_secs);

    // Phase 1: one message at a time.
    let cpu0 = probe.snap();
    for k in 0..p.sends {
        track.msgs[k]
            .sent_us
            .store(sys::now_us(), Ordering::Relaxed);
        out_txs[0]
            .send(send_frame(SEND_ID | k as u64, group.id, &run_tag, k, &pad))
            .await?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, done_rx.recv()).await {
                Ok(Some((d, _))) if d == k => break,
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => break,
            }
        }
        tokio::time::sleep(Duration::from_millis(p.gap_ms)).await;
    }
    let cpu1 = probe.snap();
    let latency = latencies(&track, 0..p.sends);

    // Phase 2: a window of messages in flight.
    let cpu2 = probe.snap();
    let burst_started = Instant::now();
    let mut next = p.sends;
    let mut in_flight = 0usize;
    let mut completed = 0usize;
    let mut finished = 0usize;
    let burst_deadline = tokio::time::Instant::now()
        + timeout
        + Duration::from_secs_f64(p.burst as f64 * 0.05).min(Duration::from_secs(300));
    while finished < p.burst {
        while in_flight < p.window.max(1) && next < total {
            track.msgs[next]
                .sent_us
                .store(sys::now_us(), Ordering::Relaxed);
            out_txs[next % senders]
                .send(send_frame(
                    SEND_ID | next as u64,
                    group.id,
                    &run_tag,
                    next,
                    &pad,
                ))
                .await?;
            next += 1;
            in_flight += 1;
        }
        match tokio::time::timeout_at(burst_deadline, done_rx.recv()).await {
            Ok(Some((d, ok))) if d >= p.sends => {
                finished += 1;
                completed += usize::from(ok);
                in_flight -= 1;
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let burst_secs = burst_started.elapsed().as_secs_f64();
    let cpu3 = probe.snap();
    // Give stragglers of incomplete messages a moment before counting them.
    if completed < p.burst {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let burst_latency = latencies(&track, p.sends..total);
    let recipients = p.members - 1;
    let mut incomplete = 0;
    let mut missing = 0;
    for m in &track.msgs[..next] {
        let c = m.count.load(Ordering::Relaxed) as u64;
        if c < recipients as u64 {
            incomplete += 1;
            missing += recipients as u64 - c;
        }
    }
    incomplete += (total - next) as u64;
    missing += (total - next) as u64 * recipients as u64;
    stop.cancel();
    ws::join_bounded(handles, Duration::from_secs(10)).await;
    let result = GroupResult {
        params: p.clone(),
        recipients,
        setup_secs,
        create_group_ms,
        latency,
        latency_cpu: probe.usage(&cpu0, &cpu1),
        burst_secs: sys::round2(burst_secs),
        msgs_per_s: round1(completed as f64 / burst_secs.max(1e-6)),
        deliveries_per_s: round1(completed as f64 * recipients as f64 / burst_secs.max(1e-6)),
        burst_latency,
        burst_cpu: probe.usage(&cpu2, &cpu3),
        incomplete,
        missing,
        duplicates: track.duplicates.load(Ordering::Relaxed),
        disconnects: track.disconnects.load(Ordering::Relaxed),
        refused: track.refused.load(Ordering::Relaxed),
        first_error: track.first_error.lock().unwrap().clone(),
    };
    print(&result);
    Ok(result)
}

pub fn print(r: &GroupResult) {
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
    println!(
        "\ngroup — {} members ({} recipients)",
        r.params.members, r.recipients
    );
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>6} {:>6}",
        "phase", "all p50", "all p99", "all max", "first p50", "ack p99", "gen%", "srv%", "all%"
    );
    println!(
        "{:<28} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>6.1} {:>6} {:>6}",
        format!("latency ({} sends, ms)", r.params.sends),
        r.latency.all_p50_ms,
        r.latency.all_p99_ms,
        r.latency.all_max_ms,
        r.latency.first_p50_ms,
        r.latency.ack_p99_ms,
        r.latency_cpu.gen_cpu_pct,
        opt(r.latency_cpu.server_cpu_pct),
        opt(r.latency_cpu.machine_cpu_pct)
    );
    println!(
        "{:<28} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>6.1} {:>6} {:>6}",
        format!("burst ({}, window {}, ms)", r.params.burst, r.params.window),
        r.burst_latency.all_p50_ms,
        r.burst_latency.all_p99_ms,
        r.burst_latency.all_max_ms,
        r.burst_latency.first_p50_ms,
        r.burst_latency.ack_p99_ms,
        r.burst_cpu.gen_cpu_pct,
        opt(r.burst_cpu.server_cpu_pct),
        opt(r.burst_cpu.machine_cpu_pct)
    );
    println!(
        "sustained: {:.1} group msg/s = {:.0} deliveries/s over {:.2} s; incomplete {} (missing {} deliveries), duplicates {}, disconnects {}",
        r.msgs_per_s, r.deliveries_per_s, r.burst_secs, r.incomplete, r.missing, r.duplicates, r.disconnects
    );
    if r.refused > 0 {
        println!(
            "{} sends refused: {}",
            r.refused,
            r.first_error.as_deref().unwrap_or("?")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_frames_decode() {
        let f = send_frame(SEND_ID | 3, 9, "r1", 3, "pp");
        let frame = confab_proto::ClientFrame::decode(&f).unwrap();
        assert_eq!(frame.id, SEND_ID | 3);
        match frame.request {
            Request::Send(s) => {
                assert_eq!(s.to, confab_proto::Target::Conversation(9));
                assert_eq!(parse_k(s.content.as_text().unwrap(), "r1"), Some(3));
            }
            other => panic!("{other:?}"),
        }
    }
}
