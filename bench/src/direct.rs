//! `direct`: C clients online, each sending text to random contacts, at an aggregate offered
//! rate that steps up. Sends are paced open-loop on a schedule (never waiting for the ack), spread
//! evenly over the clients with staggered phases. Each message carries its scheduled send time;
//! the recipient measures end-to-end latency on arrival. After each step a drain period lets
//! late messages land; a message acknowledged but never received is lost.
//!
//! The same load runs against Confab or against the reference relay (`limit`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use confab_proto::{Content, Request, SendRequest, SendResponse, Target, UserId};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;

use crate::accounts::{usernames, AccountSource};
use crate::sys::{self, ms, percentile, round1, CpuProbe};
use crate::ws::{self, Connector, Incoming, Ws};

const SENT: u8 = 1;
const ACKED: u8 = 2;
const RECEIVED: u8 = 4;
const REFUSED: u8 = 8;

/// Request ids: `(step + 1) << 40 | index` for measured sends; these bits mark the others.
const IDX_BITS: u32 = 40;
const IDX_MASK: u64 = (1 << IDX_BITS) - 1;
const PING_ID: u64 = 1 << 62;
const WARMUP_ID: u64 = 1 << 61;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirectParams {
    pub clients: usize,
    /// Aggregate offered rates, messages per second.
    pub steps: Vec<u32>,
    pub step_secs: f64,
    pub drain_secs: f64,
    /// Contacts per client (the peers it picks from at random).
    pub contacts: usize,
    /// Filler characters appended to every message text.
    pub pad: usize,
    /// Address every send to the peer user (the server resolves the direct chat each time)
    /// instead of to the conversation opened during warm-up.
    pub by_user: bool,
    /// A step passes with p99 below this and nothing lost.
    pub p99_target_ms: f64,
    /// Run every step even after one fails.
    pub keep_going: bool,
    pub connect_parallel: usize,
    pub user_prefix: String,
}

/// Who the clients are.
pub enum Backend<'a> {
    Confab(&'a AccountSource),
    /// The reference relay: client i connects as `/ws?me={i+1}`.
    Relay,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepResult {
    pub offered: u32,
    pub sent: u64,
    pub sent_per_s: f64,
    /// Messages that arrived at recipients during the step window, per second.
    pub delivered_per_s: f64,
    pub received: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    /// Acknowledged but not received by the end of the drain period.
    pub lost: u64,
    /// Sent but neither acknowledged nor refused by the end of the drain period.
    pub unacked: u64,
    pub refused: u64,
    pub duplicates: u64,
    pub disconnects: u64,
    /// How late the generator sent against its schedule, worst case.
    pub send_lag_max_ms: f64,
    pub gen_cpu_pct: f64,
    pub server_cpu_pct: Option<f64>,
    #[serde(default)]
    pub machine_cpu_pct: Option<f64>,
    pub pass: bool,
    pub first_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirectResult {
    pub backend: String,
    pub params: DirectParams,
    pub setup_secs: f64,
    pub steps: Vec<StepResult>,
    /// The highest offered rate with p99 under the target and nothing lost.
    pub best_rate: Option<u32>,
}

struct StepTrack {
    start: Instant,
    end: Instant,
    /// Between one client's consecutive sends.
    interval: Duration,
    clients: usize,
    kmax: usize,
    flags: Box<[AtomicU8]>,
    /// End-to-end latency in µs + 1 (0: not received).
    latency: Box<[AtomicU32]>,
    ack: Box<[AtomicU32]>,
    sent: AtomicU64,
    acked: AtomicU64,
    refused: AtomicU64,
    received: AtomicU64,
    duplicates: AtomicU64,
    lag_max_us: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl StepTrack {
    fn new(clients: usize, rate: u32, secs: f64, start: Instant) -> StepTrack {
        let interval = Duration::from_secs_f64(clients as f64 / rate.max(1) as f64);
        let kmax = (secs / interval.as_secs_f64()).ceil() as usize + 1;
        let cap = kmax * clients;
        StepTrack {
            start,
            end: start + Duration::from_secs_f64(secs),
            interval,
            clients,
            kmax,
            flags: (0..cap).map(|_| AtomicU8::new(0)).collect(),
            latency: (0..cap).map(|_| AtomicU32::new(0)).collect(),
            ack: (0..cap).map(|_| AtomicU32::new(0)).collect(),
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            received: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            lag_max_us: AtomicU64::new(0),
            first_error: Mutex::new(None),
        }
    }

    /// When client `c` sends its `k`-th message: phases are spread evenly over one interval.
    fn scheduled(&self, c: usize, k: usize) -> Instant {
        self.start
            + self.interval.mul_f64(c as f64 / self.clients as f64)
            + self.interval.mul_f64(k as f64)
    }

    fn scheduled_idx(&self, idx: usize) -> Instant {
        self.scheduled(idx % self.clients, idx / self.clients)
    }
}

struct Shared {
    run: String,
    pad: String,
    steps: Vec<OnceLock<Arc<StepTrack>>>,
    arrivals: AtomicU64,
    disconnects: AtomicU64,
    stop: CancellationToken,
}

impl Shared {
    fn track(&self, s: usize) -> Option<&Arc<StepTrack>> {
        self.steps.get(s).and_then(|t| t.get())
    }
}

/// The text frame of one measured send. Kept by hand for speed; a test checks it decodes to the
/// request the protocol crate would encode.
#[allow(clippy::too_many_arguments)]
fn send_frame(id: u64, to: &str, run: &str, s: usize, idx: usize, t_us: u64, pad: &str) -> String {
    let mut f = String::with_capacity(160 + pad.len());
    let _ = write!(
        f,
        r#"{{"id":{id},"type":"send","data":{{"to":{to},"client_msg_id":"{run}-{s}-{idx}","content":{{"type":"text","text":"bench {run} {s} {idx} {t_us} {pad}"}}}}}}"#
    );
    f
}

fn target_json(t: Target) -> String {
    serde_json::to_string(&t).expect("targets serialize")
}

/// Parses `bench RUN STEP IDX T_US …` of this run.
fn parse_text(text: &str, run: &str) -> Option<(usize, usize, u64)> {
    let rest = text.strip_prefix("bench ")?;
    let mut it = rest.split(' ');
    if it.next()? != run {
        return None;
    }
    let s = it.next()?.parse().ok()?;
    let idx = it.next()?.parse().ok()?;
    let t = it.next()?.parse().ok()?;
    Some((s, idx, t))
}

/// A tiny xorshift generator: one per client, no shared state.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

struct Client {
    c: usize,
    ws: Ws,
    to: Vec<String>,
    shared: Arc<Shared>,
    plan: watch::Receiver<usize>,
}

impl Client {
    fn on_text(&self, text: &str) {
        match Incoming::parse(text) {
            Incoming::Text { text, .. } => {
                let Some((s, idx, t_us)) = parse_text(&text, &self.shared.run) else {
                    return;
                };
                let now = sys::now_us();
                self.shared.arrivals.fetch_add(1, Ordering::Relaxed);
                let Some(tr) = self.shared.track(s) else {
                    return;
                };
                if idx >= tr.flags.len() {
                    return;
                }
                let before = tr.flags[idx].fetch_or(RECEIVED, Ordering::AcqRel);
                if before & RECEIVED != 0 {
                    tr.duplicates.fetch_add(1, Ordering::Relaxed);
                } else {
                    let lat = now.saturating_sub(t_us).min(u32::MAX as u64 - 1) as u32;
                    tr.latency[idx].store(lat + 1, Ordering::Relaxed);
                    tr.received.fetch_add(1, Ordering::Relaxed);
                }
            }
            Incoming::Ok(id) => {
                if let Some((tr, idx)) = self.step_of(id) {
                    let now = Instant::now();
                    let lat = now.saturating_duration_since(tr.scheduled_idx(idx));
                    tr.ack[idx].store(
                        (lat.as_micros() as u64).min(u32::MAX as u64 - 1) as u32 + 1,
                        Ordering::Relaxed,
                    );
                    tr.flags[idx].fetch_or(ACKED, Ordering::AcqRel);
                    tr.acked.fetch_add(1, Ordering::Relaxed);
                }
            }
            Incoming::Err(id, e) => {
                if let Some((tr, idx)) = id.and_then(|id| self.step_of(id)) {
                    tr.flags[idx].fetch_or(REFUSED, Ordering::AcqRel);
                    tr.refused.fetch_add(1, Ordering::Relaxed);
                    let mut first = tr.first_error.lock().unwrap();
                    if first.is_none() {
                        *first = Some(format!("{}: {}", e.code, e.message));
                    }
                }
            }
            Incoming::Other => {}
        }
    }

    fn step_of(&self, id: u64) -> Option<(&Arc<StepTrack>, usize)> {
        let s = (id >> IDX_BITS) as usize;
        if s == 0 || id & (PING_ID | WARMUP_ID) != 0 {
            return None;
        }
        let tr = self.shared.track(s - 1)?;
        let idx = (id & IDX_MASK) as usize;
        (idx < tr.flags.len()).then_some((tr, idx))
    }

    async fn run(mut self) {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (self.c as u64 + 1).wrapping_mul(0x2545_F491));
        let far = tokio::time::Instant::now() + Duration::from_secs(86_400);
        let sleep = tokio::time::sleep_until(far);
        tokio::pin!(sleep);
        // (step, its track, next k)
        let mut cur: Option<(usize, Arc<StepTrack>, usize)> = None;
        let mut ping = tokio::time::interval(Duration::from_secs(20));
        ping.tick().await;
        let mut last_sent = Instant::now();
        let mut pings = 0u64;
        loop {
            tokio::select! {
                biased;
                _ = self.shared.stop.cancelled() => break,
                m = self.ws.next() => match m {
                    Some(Ok(WsMessage::Text(t))) => self.on_text(t.as_str()),
                    Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => {
                        self.shared.disconnects.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Some(Ok(_)) => {}
                },
                r = self.plan.changed() => {
                    if r.is_err() {
                        break;
                    }
                    let s = *self.plan.borrow_and_update();
                    if let Some(tr) = self.shared.track(s) {
                        sleep.as_mut().reset(tr.scheduled(self.c, 0).into());
                        cur = Some((s, tr.clone(), 0));
                    }
                }
                _ = &mut sleep, if cur.is_some() => {
                    let (s, tr, mut k) = cur.take().expect("guarded by the branch");
                    let now = Instant::now();
                    let mut fed = false;
                    while k < tr.kmax {
                        let at = tr.scheduled(self.c, k);
                        if at >= tr.end || at > now {
                            break;
                        }
                        let idx = k * tr.clients + self.c;
                        let to = &self.to[(rng.next() % self.to.len() as u64) as usize];
                        let id = ((s as u64 + 1) << IDX_BITS) | idx as u64;
                        let frame = send_frame(id, to, &self.shared.run, s, idx, sys::instant_us(at), &self.shared.pad);
                        tr.flags[idx].fetch_or(SENT, Ordering::Relaxed);
                        tr.sent.fetch_add(1, Ordering::Relaxed);
                        let lag = now.saturating_duration_since(at).as_micros() as u64;
                        tr.lag_max_us.fetch_max(lag, Ordering::Relaxed);
                        if self.ws.feed(WsMessage::Text(frame.into())).await.is_err() {
                            self.shared.disconnects.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        fed = true;
                        k += 1;
                    }
                    if fed {
                        if self.ws.flush().await.is_err() {
                            self.shared.disconnects.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        last_sent = Instant::now();
                    }
                    let next = tr.scheduled(self.c, k);
                    if k < tr.kmax && next < tr.end {
                        sleep.as_mut().reset(next.into());
                        cur = Some((s, tr, k));
                    }
                }
                _ = ping.tick() => {
                    if last_sent.elapsed() >= Duration::from_secs(15) {
                        pings += 1;
                        let f = format!(r#"{{"id":{},"type":"ping"}}"#, PING_ID | pings);
                        if self.ws.send(WsMessage::Text(f.into())).await.is_err() {
                            self.shared.disconnects.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        last_sent = Instant::now();
                    }
                }
            }
        }
        ws::close(self.ws).await;
    }
}

/// Each client's contacts: `half` peers ahead of it on a ring and `half` behind, as unordered
/// pairs (a, b) with a the one that opens the conversation.
fn contact_pairs(clients: usize, contacts: usize) -> Vec<(usize, usize)> {
    let half = (contacts / 2).max(1).min(clients.saturating_sub(1).max(1));
    let mut pairs = std::collections::BTreeSet::new();
    for a in 0..clients {
        for d in 1..=half {
            let b = (a + d) % clients;
            if b != a {
                pairs.insert((a.min(b), a.max(b)));
            }
        }
    }
    pairs.into_iter().collect()
}

async fn connect_all(
    connector: &Connector,
    targets: Vec<(String, Option<String>)>,
    parallel: usize,
) -> Result<Vec<Ws>> {
    let started = Instant::now();
    let n = targets.len();
    let conns: Vec<Result<Ws>> = futures_util::stream::iter(targets)
        .map(|(path, token)| async move {
            let mut ws = connector.open(&path, token.as_deref()).await?;
            ws::wait_hello(&mut ws).await?;
            Ok(ws)
        })
        .buffered(parallel.max(1))
        .collect()
        .await;
    let conns = conns.into_iter().collect::<Result<Vec<_>>>()?;
    eprintln!(
        "connected {n} clients in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(conns)
}

/// Opens the direct conversation of every pair (client a sends the first message to b) and
/// returns each pair's conversation id.
async fn open_conversations(
    conns: &mut [Ws],
    ids: &[UserId],
    pairs: &[(usize, usize)],
    run: &str,
) -> Result<Vec<i64>> {
    let mut by_initiator: Vec<Vec<(usize, usize)>> = vec![Vec::new(); conns.len()];
    for (p, &(a, b)) in pairs.iter().enumerate() {
        by_initiator[a].push((p, b));
    }
    let started = Instant::now();
    let futs = conns
        .iter_mut()
        .zip(by_initiator)
        .map(|(ws, mine)| async move {
            let mut out = Vec::with_capacity(mine.len());
            for &(p, b) in &mine {
                let req = Request::Send(SendRequest {
                    to: Target::User(ids[b]),
                    client_msg_id: format!("{run}-w-{p}"),
                    content: Content::text("confab-bench warm-up"),
                    reply_to: None,
                    mentions: vec![],
                    mention_all: false,
                });
                ws::send_request(ws, WARMUP_ID | p as u64, req).await?;
            }
            for _ in 0..mine.len() {
                let r = ws::next_response(ws, Duration::from_secs(60)).await?;
                let p = (r.id & !WARMUP_ID) as usize;
                let body = r.result.map_err(|e| {
                    anyhow::anyhow!("opening a conversation: {} ({})", e.message, e.code)
                })?;
                let resp: SendResponse = serde_json::from_str(body.get())?;
                out.push((p, resp.conversation_id));
            }
            anyhow::Ok(out)
        });
    let results = futures_util::future::join_all(futs).await;
    let mut convs = vec![0i64; pairs.len()];
    for r in results {
        for (p, conv) in r? {
            convs[p] = conv;
        }
    }
    eprintln!(
        "opened {} direct conversations in {:.1} s",
        pairs.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(convs)
}

pub fn print_header(backend: &str) {
    println!("\ndirect — {backend}");
    println!(
        "{:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>5} {:>5} {:>7} {:>6} {:>6}  pass",
        "offered",
        "sent/s",
        "deliv/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "ack p99",
        "lost",
        "unack",
        "err",
        "disc",
        "lag ms",
        "gen%",
        "srv%"
    );
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into())
}

pub fn print_row(r: &StepResult) {
    println!(
        "{:>8} {:>8.0} {:>8.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6} {:>6} {:>5} {:>5} {:>7.1} {:>6.1} {:>6} {:>6}  {}",
        r.offered,
        r.sent_per_s,
        r.delivered_per_s,
        r.p50_ms,
        r.p99_ms,
        r.max_ms,
        r.ack_p99_ms,
        r.lost,
        r.unacked,
        r.refused,
        r.disconnects,
        r.send_lag_max_ms,
        r.gen_cpu_pct,
        pct(r.server_cpu_pct),
        pct(r.machine_cpu_pct),
        if r.pass { "yes" } else { "NO" }
    );
}

pub async fn run(
    p: &DirectParams,
    backend: Backend<'_>,
    connector: &Connector,
    probe: CpuProbe,
) -> Result<DirectResult> {
    if p.clients < 2 {
        bail!("direct needs at least 2 clients");
    }
    if p.steps.is_empty() {
        bail!("no steps given");
    }
    let setup_started = Instant::now();
    let run_tag = format!("{:08x}", rand::random::<u32>());
    let pairs = contact_pairs(p.clients, p.contacts);
    let (backend_name, mut conns, ids) = match backend {
        Backend::Confab(source) => {
            let names = usernames(&p.user_prefix, p.clients);
            let accounts = source.ensure(connector, &names).await?;
            let targets = accounts
                .iter()
                .map(|a| ("/ws?v=1".to_owned(), Some(a.token.clone())))
                .collect();
            let conns = connect_all(connector, targets, p.connect_parallel).await?;
            let ids: Vec<UserId> = accounts.iter().map(|a| a.user_id).collect();
            ("confab", conns, ids)
        }
        Backend::Relay => {
            let ids: Vec<UserId> = (1..=p.clients as i64).collect();
            let targets = ids
                .iter()
                .map(|id| (format!("/ws?me={id}"), None))
                .collect();
            let conns = connect_all(connector, targets, p.connect_parallel).await?;
            ("relay", conns, ids)
        }
    };
    if backend_name == "confab" {
        let settings = conns
            .iter_mut()
            .map(|ws| ws::accept_anyone(ws, WARMUP_ID - 1));
        for r in futures_util::future::join_all(settings).await {
            r.context("opening direct messages to anyone")?;
        }
    }
    let use_conversations = backend_name == "confab" && !p.by_user;
    let convs = if use_conversations {
        open_conversations(&mut conns, &ids, &pairs, &run_tag)
            .await
            .context("warm-up")?
    } else {
        Vec::new()
    };
    let mut to: Vec<Vec<String>> = vec![Vec::new(); p.clients];
    for (i, &(a, b)) in pairs.iter().enumerate() {
        if use_conversations {
            let t = target_json(Target::Conversation(convs[i]));
            to[a].push(t.clone());
            to[b].push(t);
        } else {
            to[a].push(target_json(Target::User(ids[b])));
            to[b].push(target_json(Target::User(ids[a])));
        }
    }

    let shared = Arc::new(Shared {
        run: run_tag.clone(),
        pad: "x".repeat(p.pad),
        steps: (0..p.steps.len()).map(|_| OnceLock::new()).collect(),
        arrivals: AtomicU64::new(0),
        disconnects: AtomicU64::new(0),
        stop: CancellationToken::new(),
    });
    let (plan_tx, plan_rx) = watch::channel(usize::MAX);
    let mut handles = Vec::with_capacity(p.clients);
    for (c, (ws, to)) in conns.into_iter().zip(to).enumerate() {
        let client = Client {
            c,
            ws,
            to,
            shared: shared.clone(),
            plan: plan_rx.clone(),
        };
        handles.push(tokio::spawn(client.run()));
    }
    let setup_secs = round1(setup_started.elapsed().as_secs_f64());
    // Let warm-up traffic settle before the first step.
    tokio::time::sleep(Duration::from_millis(500)).await;

    print_header(backend_name);
    let mut results = Vec::new();
    for (s, &rate) in p.steps.iter().enumerate() {
        let start = Instant::now() + Duration::from_millis(300);
        let tr = Arc::new(StepTrack::new(p.clients, rate, p.step_secs, start));
        let _ = shared.steps[s].set(tr.clone());
        plan_tx.send_replace(s);
        tokio::time::sleep_until(start.into()).await;
        let arrivals0 = shared.arrivals.load(Ordering::Relaxed);
        let disc0 = shared.disconnects.load(Ordering::Relaxed);
        let cpu0 = probe.snap();
        tokio::time::sleep_until(tr.end.into()).await;
        let cpu1 = probe.snap();
        let arrivals1 = shared.arrivals.load(Ordering::Relaxed);
        let window = cpu_window_secs(start, Instant::now());
        let drain_deadline = tr.end + Duration::from_secs_f64(p.drain_secs);
        loop {
            let sent = tr.sent.load(Ordering::Relaxed);
            let acked = tr.acked.load(Ordering::Relaxed);
            let refused = tr.refused.load(Ordering::Relaxed);
            let received = tr.received.load(Ordering::Relaxed);
            let settled = acked + refused >= sent && received >= acked;
            if (settled && Instant::now() > tr.end + Duration::from_millis(50))
                || Instant::now() >= drain_deadline
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut r = summarize(&tr, rate, p.step_secs);
        r.delivered_per_s = round1((arrivals1 - arrivals0) as f64 / window);
        r.disconnects = shared.disconnects.load(Ordering::Relaxed) - disc0;
        let cpu = probe.usage(&cpu0, &cpu1);
        r.gen_cpu_pct = cpu.gen_cpu_pct;
        r.server_cpu_pct = cpu.server_cpu_pct;
        r.machine_cpu_pct = cpu.machine_cpu_pct;
        r.pass = r.sent > 0
            && r.received >= r.sent
            && r.lost == 0
            && r.unacked == 0
            && r.refused == 0
            && r.disconnects == 0
            && r.p99_ms < p.p99_target_ms;
        print_row(&r);
        let failed = !r.pass;
        results.push(r);
        if failed && !p.keep_going {
            println!("(stopping: this step failed; --keep-going runs the rest)");
            break;
        }
    }
    shared.stop.cancel();
    ws::join_bounded(handles, Duration::from_secs(10)).await;
    let best_rate = results.iter().filter(|r| r.pass).map(|r| r.offered).max();
    match best_rate {
        Some(b) => println!(
            "result: highest rate with p99 < {} ms and zero loss: {b} msg/s",
            p.p99_target_ms
        ),
        None => println!(
            "result: no step passed (p99 < {} ms, zero loss)",
            p.p99_target_ms
        ),
    }
    Ok(DirectResult {
        backend: backend_name.into(),
        params: p.clone(),
        setup_secs,
        steps: results,
        best_rate,
    })
}

fn cpu_window_secs(a: Instant, b: Instant) -> f64 {
    b.duration_since(a).as_secs_f64().max(1e-3)
}

fn summarize(tr: &StepTrack, rate: u32, secs: f64) -> StepResult {
    let mut lat = Vec::new();
    let mut ack = Vec::new();
    let (mut lost, mut unacked) = (0u64, 0u64);
    for i in 0..tr.flags.len() {
        let f = tr.flags[i].load(Ordering::Acquire);
        if f & SENT == 0 {
            continue;
        }
        if f & ACKED != 0 && f & RECEIVED == 0 {
            lost += 1;
        }
        if f & (ACKED | REFUSED) == 0 {
            unacked += 1;
        }
        let l = tr.latency[i].load(Ordering::Relaxed);
        if l > 0 {
            lat.push(l as u64 - 1);
        }
        let a = tr.ack[i].load(Ordering::Relaxed);
        if a > 0 {
            ack.push(a as u64 - 1);
        }
    }
    lat.sort_unstable();
    ack.sort_unstable();
    let sent = tr.sent.load(Ordering::Relaxed);
    StepResult {
        offered: rate,
        sent,
        sent_per_s: round1(sent as f64 / secs),
        delivered_per_s: 0.0,
        received: tr.received.load(Ordering::Relaxed),
        p50_ms: ms(percentile(&lat, 50.0)),
        p99_ms: ms(percentile(&lat, 99.0)),
        max_ms: ms(lat.last().copied().unwrap_or(0)),
        ack_p50_ms: ms(percentile(&ack, 50.0)),
        ack_p99_ms: ms(percentile(&ack, 99.0)),
        lost,
        unacked,
        refused: tr.refused.load(Ordering::Relaxed),
        duplicates: tr.duplicates.load(Ordering::Relaxed),
        disconnects: 0,
        send_lag_max_ms: ms(tr.lag_max_us.load(Ordering::Relaxed)),
        gen_cpu_pct: 0.0,
        server_cpu_pct: None,
        machine_cpu_pct: None,
        pass: false,
        first_error: tr.first_error.lock().unwrap().clone(),
    }
}

/// Prints a Confab run beside a relay run, step by step, and the ratio of their best rates.
pub fn print_comparison(confab: &DirectResult, relay: &DirectResult) -> Option<f64> {
    println!("\nConfab vs the reference relay (same load, same machine)");
    println!(
        "{:>8} | {:>9} {:>8} {:>5} | {:>9} {:>8} {:>5}",
        "offered", "confab/s", "p99 ms", "pass", "relay/s", "p99 ms", "pass"
    );
    let mut rates: Vec<u32> = confab
        .steps
        .iter()
        .chain(relay.steps.iter())
        .map(|s| s.offered)
        .collect();
    rates.sort_unstable();
    rates.dedup();
    let cell = |r: Option<&StepResult>| match r {
        Some(s) => format!(
            "{:>9.0} {:>8.2} {:>5}",
            s.delivered_per_s,
            s.p99_ms,
            if s.pass { "yes" } else { "NO" }
        ),
        None => format!("{:>9} {:>8} {:>5}", "-", "-", "-"),
    };
    for rate in rates {
        let a = confab.steps.iter().find(|s| s.offered == rate);
        let b = relay.steps.iter().find(|s| s.offered == rate);
        println!("{rate:>8} | {} | {}", cell(a), cell(b));
    }
    let fmt = |b: Option<u32>| b.map(|v| v.to_string()).unwrap_or_else(|| "none".into());
    let fraction = match (confab.best_rate, relay.best_rate) {
        (Some(a), Some(b)) if b > 0 => Some(sys::round2(a as f64 / b as f64)),
        _ => None,
    };
    let relay_capped = relay
        .steps
        .last()
        .is_some_and(|s| s.pass && Some(s.offered) == relay.params.steps.iter().max().copied());
    println!(
        "best: confab {} msg/s, relay {} msg/s{}{}",
        fmt(confab.best_rate),
        fmt(relay.best_rate),
        if relay_capped {
            " (the relay passed every step: its real limit is higher)"
        } else {
            ""
        },
        fraction
            .map(|f| format!(" → confab reaches {:.0}% of the relay", f * 100.0))
            .unwrap_or_default()
    );
    fraction
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_proto::ClientFrame;

    #[test]
    fn hand_built_frames_decode_to_the_expected_request() {
        let to = target_json(Target::Conversation(12));
        let f = send_frame(77, &to, "abcd1234", 2, 301, 123456, "xx");
        let frame = ClientFrame::decode(&f).unwrap();
        assert_eq!(frame.id, 77);
        assert_eq!(
            frame.request,
            Request::Send(SendRequest {
                to: Target::Conversation(12),
                client_msg_id: "abcd1234-2-301".into(),
                content: Content::text("bench abcd1234 2 301 123456 xx"),
                reply_to: None,
                mentions: vec![],
                mention_all: false,
            })
        );
        assert_eq!(
            parse_text("bench abcd1234 2 301 123456 xx", "abcd1234"),
            Some((2, 301, 123456))
        );
        assert_eq!(parse_text("bench other 2 301 123456 xx", "abcd1234"), None);
        let user = target_json(Target::User(5));
        assert!(ClientFrame::decode(&send_frame(1, &user, "r", 0, 0, 0, "")).is_ok());
    }

    #[test]
    fn contacts_are_symmetric_and_bounded() {
        let pairs = contact_pairs(10, 4);
        assert_eq!(pairs.len(), 20);
        for &(a, b) in &pairs {
            assert!(a < b && b < 10);
        }
        assert_eq!(contact_pairs(2, 8), vec![(0, 1)]);
        assert_eq!(contact_pairs(3, 8).len(), 3);
    }

    #[test]
    fn schedules_stay_inside_the_step() {
        let t = StepTrack::new(10, 100, 1.0, Instant::now());
        assert_eq!(t.interval, Duration::from_millis(100));
        assert_eq!(t.kmax, 11);
        let last = t.scheduled(9, 9);
        assert!(last < t.end);
        assert_eq!(t.scheduled_idx(9 * 10 + 9), last);
    }
}
