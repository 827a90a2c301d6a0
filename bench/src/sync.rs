//! `sync`: a user comes back after missing messages in many conversations. Setup: S sender
//! users each send P messages to the target user while the target is offline (pipelined per
//! sender). Measured: from opening the target's connection until it holds every missed
//! message — `hello`, one `sync`, then `history` pages (`after` its read position) for every
//! conversation with unread messages, several pages in flight at once.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use confab_proto::{
    Content, ErrorCode, HistoryRequest, HistoryResponse, MarkRead, MarkReadResponse, Request,
    SendRequest, SyncResponse, Target,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::accounts::{usernames, AccountSource};
use crate::sys::{self, round1, CpuProbe, CpuUsage};
use crate::ws::{self, Connector, Ws};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncParams {
    /// Conversations with missed messages (one sender user each).
    pub conversations: usize,
    /// Messages missed in each.
    pub per_conversation: usize,
    /// Sends in flight per sender during setup.
    pub window: usize,
    /// History requests in flight while syncing.
    pub parallel: usize,
    /// History page size (capped by the server's `history_page_max`).
    pub page: u32,
    pub connect_parallel: usize,
    pub user_prefix: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncResult {
    pub params: SyncParams,
    pub setup_secs: f64,
    /// Messages stored per second while the senders filled the backlog.
    pub setup_msgs_per_s: f64,
    pub connect_ms: f64,
    pub sync_ms: f64,
    pub history_ms: f64,
    pub total_ms: f64,
    pub conversations_with_unread: usize,
    pub pages: u64,
    pub messages_fetched: u64,
    /// Messages of this run among them (the rest are older ones after the read position).
    pub run_messages: u64,
    pub expected: u64,
    pub complete: bool,
    pub bytes: u64,
    pub msgs_per_s: f64,
    pub cpu: CpuUsage,
    /// History requests the server refused for rate and that were asked again after waiting.
    pub rate_limited: u64,
}

fn text(run: &str, k: usize) -> String {
    format!("sbench {run} {k} missed while offline")
}

/// Marks every conversation with unread messages as read up to its newest seq.
async fn mark_all_read(ws: &mut Ws, sync: &SyncResponse) -> Result<()> {
    let mut id = 1_000_000u64;
    for c in sync.conversations.iter().filter(|c| c.unread > 0) {
        id += 1;
        let _: MarkReadResponse = ws::call(
            ws,
            id,
            Request::MarkRead(MarkRead {
                conversation_id: c.id,
                seq: c.last_seq,
            }),
        )
        .await?;
    }
    Ok(())
}

/// One sender's backlog: `n` messages to `target`, at most `window` unanswered. Sends the
/// server refuses for rate are sent again after the wait it asks for (this is setup, not the
/// measured part).
async fn fill(mut ws: Ws, target: i64, n: usize, window: usize, run: String) -> Result<()> {
    let mut queue: VecDeque<usize> = (0..n).collect();
    let mut in_flight = 0usize;
    let mut stored = 0usize;
    let deadline = Instant::now() + Duration::from_secs(600);
    while stored < n {
        if Instant::now() > deadline {
            bail!("the backlog was not stored within 600 s");
        }
        while in_flight < window.max(1) {
            let Some(k) = queue.pop_front() else { break };
            ws::send_request(
                &mut ws,
                k as u64 + 1,
                Request::Send(SendRequest {
                    to: Target::User(target),
                    client_msg_id: format!("s{run}-{k}"),
                    content: Content::text(text(&run, k)),
                    reply_to: None,
                    mentions: vec![],
                    mention_all: false,
                }),
            )
            .await?;
            in_flight += 1;
        }
        let r = ws::next_response(&mut ws, Duration::from_secs(60)).await?;
        in_flight -= 1;
        match r.result {
            Ok(_) => stored += 1,
            Err(e) if e.code == ErrorCode::RateLimited => {
                let wait = e.retry_after_ms.unwrap_or(100).min(5_000);
                tokio::time::sleep(Duration::from_millis(wait)).await;
                queue.push_back((r.id - 1) as usize);
            }
            Err(e) => bail!("send refused: {} ({})", e.message, e.code),
        }
    }
    ws::close(ws).await;
    Ok(())
}

pub async fn run(
    p: &SyncParams,
    source: &AccountSource,
    connector: &Connector,
    probe: CpuProbe,
) -> Result<SyncResult> {
    if p.conversations == 0 || p.per_conversation == 0 {
        bail!("sync needs at least one conversation and one message");
    }
    let setup_started = Instant::now();
    let run_tag = format!("{:08x}", rand::random::<u32>());
    let accounts = source
        .ensure(connector, &usernames(&p.user_prefix, p.conversations + 1))
        .await?;
    let (target, senders) = accounts.split_first().expect("at least two accounts");

    // Start from a clean slate: whatever an earlier run left unread is read now.
    {
        let (mut ws, _) = connector.confab(&target.token).await?;
        ws::accept_anyone(&mut ws, 2).await?;
        let sync: SyncResponse = ws::call(&mut ws, 1, Request::Sync).await?;
        mark_all_read(&mut ws, &sync).await?;
        ws::close(ws).await;
        // The server must see the target offline before the backlog builds up.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let conns: Vec<Result<(Ws, ws::HelloLimits)>> = futures_util::stream::iter(senders)
        .map(|a| connector.confab(&a.token))
        .buffered(p.connect_parallel.max(1))
        .collect()
        .await;
    let conns = conns.into_iter().collect::<Result<Vec<_>>>()?;
    let fill_started = Instant::now();
    let fills = conns.into_iter().map(|(ws, _)| {
        tokio::spawn(fill(
            ws,
            target.user_id,
            p.per_conversation,
            p.window,
            run_tag.clone(),
        ))
    });
    for r in futures_util::future::join_all(fills).await {
        r??;
    }
    let fill_secs = fill_started.elapsed().as_secs_f64();
    let expected = (p.conversations * p.per_conversation) as u64;
    eprintln!(
        "stored {expected} messages for the offline user in {fill_secs:.1} s ({:.0} msg/s)",
        expected as f64 / fill_secs
    );
    let setup_secs = round1(setup_started.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The measured part.
    let cpu0 = probe.snap();
    let t0 = Instant::now();
    let (mut ws, hello) = connector.confab(&target.token).await?;
    let t_hello = t0.elapsed();
    let sync: SyncResponse = ws::call(&mut ws, 1, Request::Sync).await?;
    let t_sync = t0.elapsed();
    let page = p.page.clamp(1, hello.history_page_max.max(1));
    let mut queue: VecDeque<(i64, i64)> = sync
        .conversations
        .iter()
        .filter(|c| c.unread > 0)
        .map(|c| (c.id, c.read_seq))
        .collect();
    let with_unread = queue.len();
    let mut in_flight: HashMap<u64, (i64, i64)> = HashMap::new();
    let mut rate_limited = 0u64;
    let mut next_id = 10u64;
    let (mut pages, mut fetched, mut run_messages, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    let prefix = format!("sbench {run_tag} ");
    let deadline = Instant::now() + Duration::from_secs(600);
    while !queue.is_empty() || !in_flight.is_empty() {
        if Instant::now() > deadline {
            bail!("sync did not finish within 600 s");
        }
        while in_flight.len() < p.parallel.max(1) {
            let Some((conv, after)) = queue.pop_front() else {
                break;
            };
            next_id += 1;
            ws::send_request(
                &mut ws,
                next_id,
                Request::History(HistoryRequest {
                    conversation_id: conv,
                    before: None,
                    after: Some(after),
                    limit: Some(page),
                }),
            )
            .await?;
            in_flight.insert(next_id, (conv, after));
        }
        let r = ws::next_response(&mut ws, Duration::from_secs(60)).await?;
        let Some((conv, after)) = in_flight.remove(&r.id) else {
            continue;
        };
        bytes += r.bytes as u64;
        let body = match r.result {
            Ok(body) => body,
            Err(e) if e.code == ErrorCode::RateLimited => {
                // A real client waits as told and asks again.
                rate_limited += 1;
                let wait = e.retry_after_ms.unwrap_or(100).min(5_000);
                tokio::time::sleep(Duration::from_millis(wait)).await;
                queue.push_back((conv, after));
                continue;
            }
            Err(e) => bail!("history refused: {} ({})", e.message, e.code),
        };
        let h: HistoryResponse = serde_json::from_str(body.get())?;
        pages += 1;
        fetched += h.messages.len() as u64;
        run_messages += h
            .messages
            .iter()
            .filter(|m| m.content.as_text().is_some_and(|t| t.starts_with(&prefix)))
            .count() as u64;
        if h.has_more {
            if let Some(last) = h.messages.last() {
                queue.push_back((conv, last.seq));
            }
        }
    }
    let total = t0.elapsed();
    let cpu1 = probe.snap();
    // Leave the account clean for the next run.
    mark_all_read(&mut ws, &sync).await?;
    ws::close(ws).await;

    let result = SyncResult {
        params: p.clone(),
        setup_secs,
        setup_msgs_per_s: round1(expected as f64 / fill_secs.max(1e-6)),
        connect_ms: sys::dur_ms(t_hello),
        sync_ms: sys::dur_ms(t_sync - t_hello),
        history_ms: sys::dur_ms(total - t_sync),
        total_ms: sys::dur_ms(total),
        conversations_with_unread: with_unread,
        pages,
        messages_fetched: fetched,
        run_messages,
        expected,
        complete: run_messages == expected,
        bytes,
        msgs_per_s: round1(fetched as f64 / total.as_secs_f64().max(1e-6)),
        cpu: probe.usage(&cpu0, &cpu1),
        rate_limited,
    };
    print(&result);
    Ok(result)
}

pub fn print(r: &SyncResult) {
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
    println!(
        "\nsync — {} conversations × {} missed messages",
        r.params.conversations, r.params.per_conversation
    );
    println!(
        "{:>10} {:>9} {:>10} {:>9} {:>6} {:>7} {:>9} {:>9} {:>8} {:>9} {:>6} {:>6} {:>6}",
        "connect ms",
        "sync ms",
        "history ms",
        "total ms",
        "convs",
        "pages",
        "messages",
        "expected",
        "MiB",
        "msg/s",
        "gen%",
        "srv%",
        "all%"
    );
    println!(
        "{:>10.2} {:>9.2} {:>10.2} {:>9.2} {:>6} {:>7} {:>9} {:>9} {:>8.2} {:>9.0} {:>6.1} {:>6} {:>6}",
        r.connect_ms,
        r.sync_ms,
        r.history_ms,
        r.total_ms,
        r.conversations_with_unread,
        r.pages,
        r.run_messages,
        r.expected,
        r.bytes as f64 / 1048576.0,
        r.msgs_per_s,
        r.cpu.gen_cpu_pct,
        opt(r.cpu.server_cpu_pct),
        opt(r.cpu.machine_cpu_pct)
    );
    println!(
        "(setup stored the backlog at {:.0} msg/s; {} history requests waited for the rate \
         limit; complete: {})",
        r.setup_msgs_per_s,
        r.rate_limited,
        if r.complete { "yes" } else { "NO" }
    );
}
