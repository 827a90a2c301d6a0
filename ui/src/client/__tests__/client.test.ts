import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfabClient } from '../client';
import { Connection, websocketUrl } from '../connection';
import { ClientError } from '../errors';
import type { SyncResponse } from '../protocol';
import { BOB, ME, msg, range, summary } from './fixtures';
import { FakeTransportFactory, flush, hello, type FakeSocket } from './fakeServer';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const backoff = { initialMs: 100, maxMs: 1000, random: () => 0.5 };

describe('Connection', () => {
  it('builds the WebSocket address with version and token', () => {
    expect(websocketUrl('https://chat.example.com/', 'abc')).toBe('wss://chat.example.com/ws?v=1&token=abc');
    expect(websocketUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/ws?v=1');
  });

  it('matches answers to requests by id and queues requests until connected', async () => {
    const t = new FakeTransportFactory();
    const c = new Connection({ serverUrl: 'http://x', token: 'tok', transport: t, backoff });
    c.start();
    const p = c.request('get_user', { user_id: 2 });
    expect(t.last.sent).toEqual([]);
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    expect(c.state.status).toBe('connected');
    const req = t.last.sent[0];
    expect(req).toMatchObject({ type: 'get_user', data: { user_id: 2 } });
    t.last.reply(req.id, BOB);
    await expect(p).resolves.toEqual(BOB);
    const q = c.request('friends');
    t.last.fail(t.last.sent[1].id, 'forbidden', 'no');
    await expect(q).rejects.toMatchObject({ code: 'forbidden' });
    c.stop();
  });

  it('times requests out', async () => {
    const t = new FakeTransportFactory();
    const c = new Connection({ serverUrl: 'http://x', token: 'tok', transport: t, backoff, requestTimeoutMs: 1000 });
    c.start();
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    const p = c.request('ping');
    vi.advanceTimersByTime(1001);
    await expect(p).rejects.toBeInstanceOf(ClientError);
    await expect(p).rejects.toMatchObject({ code: 'timeout' });
    c.stop();
  });

  it('reconnects with backoff after a transient close and fails requests in flight', async () => {
    const t = new FakeTransportFactory();
    const c = new Connection({ serverUrl: 'http://x', token: 'tok', transport: t, backoff });
    const statuses: string[] = [];
    c.events.on('state', (s) => statuses.push(s.status));
    c.start();
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    const inFlight = c.request('sync');
    t.last.drop(4001);
    await expect(inFlight).rejects.toMatchObject({ code: 'connection_lost' });
    expect(c.state.status).toBe('waiting');
    expect(t.sockets.length).toBe(1);
    vi.advanceTimersByTime(100);
    expect(t.sockets.length).toBe(2);
    expect(t.last.url).toContain('token=tok');
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    expect(c.state).toMatchObject({ status: 'connected', attempt: 0 });
    expect(statuses).toEqual(['connecting', 'connected', 'waiting', 'connecting', 'connected']);
    c.stop();
  });

  it('stops for good on a terminal close code', () => {
    const t = new FakeTransportFactory();
    const c = new Connection({ serverUrl: 'http://x', token: 'tok', transport: t, backoff });
    c.start();
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    t.last.drop(4101);
    expect(c.state).toMatchObject({ status: 'closed', terminal: 'session_revoked' });
    vi.advanceTimersByTime(60_000);
    expect(t.sockets.length).toBe(1);
  });

  it('authenticates by frame after a refused handshake and stops on an invalid token', () => {
    const t = new FakeTransportFactory();
    const c = new Connection({ serverUrl: 'http://x', token: 'bad', transport: t, backoff });
    c.start();
    t.last.drop(1006); // HTTP 401 at the upgrade looks like this to a browser.
    vi.advanceTimersByTime(100);
    const s = t.last;
    expect(s.url).not.toContain('token=');
    s.open();
    expect(s.sent[0]).toMatchObject({ type: 'auth', data: { token: 'bad' } });
    s.fail(s.sent[0].id, 'invalid_token');
    expect(c.state).toMatchObject({ status: 'closed', terminal: 'invalid_token' });
  });

  it('drops a connection whose ping goes unanswered', () => {
    const t = new FakeTransportFactory();
    const c = new Connection({ serverUrl: 'http://x', token: 'tok', transport: t, backoff, pingIntervalMs: 1000, requestTimeoutMs: 500 });
    c.start();
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    vi.advanceTimersByTime(1000);
    expect(t.last.sent.at(-1)).toMatchObject({ type: 'ping' });
    vi.advanceTimersByTime(500);
    return flush().then(() => {
      expect(c.state.status).toBe('waiting');
      c.stop();
    });
  });
});

/** Answers sync and history from a small in-memory server. */
function serve(t: FakeTransportFactory, db: { sync: () => SyncResponse; history: (d: { after?: number; before?: number; limit?: number }) => { messages: ReturnType<typeof range>; has_more: boolean } }) {
  t.onRequest = (s: FakeSocket, req) => {
    queueMicrotask(() => {
      if (req.type === 'sync') s.reply(req.id, db.sync());
      else if (req.type === 'history') s.reply(req.id, db.history(req.data as { after?: number }));
      else if (req.type === 'mark_read') s.reply(req.id, { conversation_id: 10, read_seq: (req.data as { seq: number }).seq, unread: 0 });
      else if (req.type === 'ping') s.reply(req.id, {});
    });
  };
}

describe('ConfabClient', () => {
  it('resumes after a reconnect: sync, then history after what it holds', async () => {
    const t = new FakeTransportFactory();
    let last = 5;
    const historyCalls: unknown[] = [];
    serve(t, {
      sync: () => ({ conversations: [summary({ last_seq: last, read_seq: 5, unread: last - 5 })], total_unread: last - 5 }),
      history: (d) => {
        historyCalls.push(d);
        const from = d.after != null ? d.after + 1 : Math.max(1, last - (d.limit ?? 50) + 1);
        const to = d.after != null ? Math.min(last, d.after + (d.limit ?? 50)) : last;
        return { messages: range(from, to), has_more: to < last };
      },
    });
    const client = new ConfabClient({ serverUrl: 'http://x', token: 'tok', transport: t, backoff });
    client.start();
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    await vi.waitFor(() => expect(client.getState().synced).toBe(true));
    await client.openConversation(10);
    expect(client.getState().conversations[10].messages.length).toBe(5);

    // Offline: three messages arrive meanwhile.
    t.last.drop(1006);
    last = 8;
    vi.advanceTimersByTime(100);
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    await vi.waitFor(() => expect(client.getState().conversations[10].messages.length).toBe(8));
    expect(historyCalls.at(-1)).toMatchObject({ after: 5 });
    const c = client.getState().conversations[10];
    expect(c.gap).toBeNull();
    expect(c.summary.unread).toBe(3);
    client.dispose();
  });

  it('fills a gap noticed in pushed messages and ignores duplicates', async () => {
    const t = new FakeTransportFactory();
    let last = 3;
    serve(t, {
      sync: () => ({ conversations: [summary({ last_seq: last, read_seq: 3 })], total_unread: 0 }),
      history: (d) => {
        const from = d.after != null ? d.after + 1 : 1;
        return { messages: range(from, last), has_more: false };
      },
    });
    const client = new ConfabClient({ serverUrl: 'http://x', token: 'tok', transport: t, backoff });
    client.start();
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    await vi.waitFor(() => expect(client.getState().synced).toBe(true));
    await client.openConversation(10);
    last = 6;
    t.last.push({ event: 'message', data: msg(6) });
    t.last.push({ event: 'message', data: msg(6) });
    await vi.waitFor(() => expect(client.getState().conversations[10].messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]));
    expect(client.getState().conversations[10].summary.unread).toBe(3);
    client.dispose();
  });

  it('keeps a failed send with its key and retries it with the same key', async () => {
    const t = new FakeTransportFactory();
    serve(t, { sync: () => ({ conversations: [summary({ last_seq: 0 })], total_unread: 0 }), history: () => ({ messages: [], has_more: false }) });
    const client = new ConfabClient({ serverUrl: 'http://x', token: 'tok', transport: t, backoff });
    client.start();
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    await vi.waitFor(() => expect(client.getState().synced).toBe(true));
    const key = client.sendText({ conversation: 10 }, 'hello');
    const first = t.last.sent.find((r) => r.type === 'send')!;
    t.last.fail(first.id, 'unavailable');
    await vi.waitFor(() => expect(client.getState().pending[0]).toMatchObject({ status: 'failed', client_msg_id: key }));
    void client.retry(key);
    const second = t.last.sent.filter((r) => r.type === 'send')[1];
    expect((second.data as { client_msg_id: string }).client_msg_id).toBe(key);
    t.last.reply(second.id, { conversation_id: 10, seq: 1, created_at: 5, duplicate: true });
    await vi.waitFor(() => expect(client.getState().pending).toEqual([]));
    expect(client.getState().conversations[10].summary.last_message).toMatchObject({ seq: 1, sender_id: ME.id });
    client.dispose();
  });

  it('waits out a rate limit and sends again with the same key', async () => {
    const t = new FakeTransportFactory();
    serve(t, { sync: () => ({ conversations: [summary({ last_seq: 0 })], total_unread: 0 }), history: () => ({ messages: [], has_more: false }) });
    const client = new ConfabClient({ serverUrl: 'http://x', token: 'tok', transport: t, backoff });
    client.start();
    t.last.open();
    t.last.push({ event: 'hello', data: hello() });
    await vi.waitFor(() => expect(client.getState().synced).toBe(true));
    const key = client.sendText({ conversation: 10 }, 'fast');
    const first = t.last.sent.find((r) => r.type === 'send')!;
    t.last.handlers.onMessage(JSON.stringify({ id: first.id, error: { code: 'rate_limited', message: 'slow down', retry_after_ms: 300 } }));
    await flush();
    expect(client.getState().pending[0].status).toBe('sending');
    await vi.advanceTimersByTimeAsync(300);
    const second = t.last.sent.filter((r) => r.type === 'send')[1];
    expect((second.data as { client_msg_id: string }).client_msg_id).toBe(key);
    t.last.reply(second.id, { conversation_id: 10, seq: 1, created_at: 5, duplicate: false });
    await vi.waitFor(() => expect(client.getState().pending).toEqual([]));
    client.dispose();
  });
});
