// The Confab client: a connection plus the client state, kept in step. It resumes after every
// reconnect by syncing and fetching what each held conversation missed, fills gaps it notices
// in pushed messages, and sends with idempotency keys so retries never duplicate.

import { Connection, type ConnectionOptions, type ConnectionState } from './connection';
import { Emitter } from './emitter';
import { ClientError, isClientError } from './errors';
import type {
  BodylessRequestType,
  ContactEvent,
  Content,
  ConversationChanged,
  ConversationSummary,
  Event,
  Hello,
  Message,
  Presence,
  RequestData,
  RequestType,
  ResponseMap,
  Target,
} from './protocol';
import {
  addPending,
  applyConversation,
  applyHello,
  applyHistory,
  applyIncomingMessage,
  applyMarkRead,
  applyReadEvent,
  applyRecallAck,
  applySendAck,
  applySync,
  applyTyping,
  clearTyping,
  emptyState,
  markReadLocally,
  patchSummary,
  pruneTyping,
  removeConversation,
  removePending,
  setPeerReadSeq,
  updatePending,
  type ChatState,
  type PendingMessage,
} from './store';

export interface ClientOptions extends ConnectionOptions {
  /** Messages per history page when opening a conversation or scrolling up. */
  pageSize?: number;
}

export interface ClientEvents extends Record<string, unknown> {
  connection: ConnectionState;
  hello: Hello;
  /** A resume (sync plus catch-up) finished after a (re)connection. */
  resumed: { reconnect: boolean };
  /** A new message from someone else arrived live (for notifications). */
  incoming: Message;
  contact: ContactEvent;
  presence: Presence;
  conversation_changed: ConversationChanged;
  /** Every pushed event, raw. */
  event: Event;
}

export interface SendOptions {
  replyTo?: number | null;
  mentions?: number[];
  mentionAll?: boolean;
}

/** A random idempotency key (works outside secure contexts, where `randomUUID` is missing). */
export function newClientMsgId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class ConfabClient {
  readonly connection: Connection;
  readonly events = new Emitter<ClientEvents>();
  private _state: ChatState = emptyState();
  private listeners = new Set<() => void>();
  private readonly pageSize: number;
  private gapFetches = new Set<number>();
  private latestLoads = new Map<number, Promise<void>>();
  private olderLoads = new Map<number, Promise<void>>();
  private conversationFetches = new Map<number, Promise<boolean>>();
  private readRequested = new Map<number, number>();
  private lastTypingSent = new Map<number, number>();
  private rateLimitedTries = new Map<string, number>();
  private typingTimer: ReturnType<typeof setInterval> | null = null;
  private connectedOnce = false;
  private unsubscribe: Array<() => void> = [];

  constructor(options: ClientOptions) {
    this.pageSize = options.pageSize ?? 50;
    this.connection = new Connection(options);
    this.unsubscribe.push(
      this.connection.events.on('state', (s) => this.events.emit('connection', s)),
      this.connection.events.on('hello', (h) => this.onHello(h)),
      this.connection.events.on('event', (e) => this.onEvent(e)),
    );
  }

  // ---- state access (fits React's useSyncExternalStore) ----

  getState = (): ChatState => this._state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /**
   * Applies a pure state function (e.g. one of the reducers in `store.ts`) to the client
   * state: for local-only changes, fixtures and tools built on the client.
   */
  dispatch(fn: (s: ChatState) => ChatState): void {
    this.update(fn);
  }

  private update(fn: (s: ChatState) => ChatState): void {
    const next = fn(this._state);
    if (next === this._state) return;
    this._state = next;
    for (const l of [...this.listeners]) l();
  }

  get me(): number {
    return this._state.me?.id ?? 0;
  }

  // ---- lifecycle ----

  start(): void {
    this.connection.start();
  }

  stop(): void {
    this.connection.stop();
    if (this.typingTimer) clearInterval(this.typingTimer);
    this.typingTimer = null;
  }

  /** Stops for good and drops every listener. */
  dispose(): void {
    this.stop();
    for (const u of this.unsubscribe) u();
    this.events.clear();
    this.listeners.clear();
  }

  request<K extends BodylessRequestType>(type: K, data?: undefined, opts?: { timeoutMs?: number }): Promise<ResponseMap[K]>;
  request<K extends RequestType>(type: K, data: RequestData<K>, opts?: { timeoutMs?: number }): Promise<ResponseMap[K]>;
  request<K extends RequestType>(type: K, data?: RequestData<K>, opts?: { timeoutMs?: number }): Promise<ResponseMap[K]> {
    return this.connection.request(type, data as RequestData<K>, opts);
  }

  // ---- connection events ----

  private onHello(hello: Hello): void {
    this.update((s) => applyHello(s, hello.user, hello.limits));
    this.events.emit('hello', hello);
    const reconnect = this.connectedOnce;
    this.connectedOnce = true;
    void this.resume(reconnect);
  }

  /** Sync, then fetch what each held conversation missed, then resend interrupted sends. */
  async resume(reconnect = true): Promise<void> {
    try {
      const sync = await this.request('sync');
      this.update((s) => applySync(s, sync));
    } catch (e) {
      if (isClientError(e) && e.transient) return; // The next connection resumes again.
      throw e;
    }
    const gaps = Object.values(this._state.conversations).filter((c) => c.gap);
    await Promise.all(gaps.map((c) => this.fillGap(c.summary.id)));
    for (const p of this._state.pending) {
      // Sends still queued go out by themselves; those cut off by the drop are resent.
      if (p.status === 'failed' && p.transient) void this.retry(p.client_msg_id);
    }
    this.events.emit('resumed', { reconnect });
  }

  private onEvent(ev: Event): void {
    this.events.emit('event', ev);
    switch (ev.event) {
      case 'message':
        void this.onMessage(ev.data);
        break;
      case 'read':
        this.update((s) => applyReadEvent(s, ev.data));
        break;
      case 'typing':
        this.update((s) => applyTyping(s, ev.data, Date.now()));
        this.ensureTypingTimer();
        break;
      case 'presence':
        this.events.emit('presence', ev.data);
        break;
      case 'contact':
        this.events.emit('contact', ev.data);
        break;
      case 'conversation_changed':
        void this.refreshConversation(ev.data.conversation_id);
        this.events.emit('conversation_changed', ev.data);
        break;
      default:
        break;
    }
  }

  private async onMessage(m: Message): Promise<void> {
    if (!this._state.conversations[m.conversation_id]) {
      // A conversation we do not know yet (a new chat, or we were added to a group).
      const ok = await this.refreshConversation(m.conversation_id);
      if (!ok) return;
    }
    const before = this._state.conversations[m.conversation_id];
    const isNew = !!before && m.seq > before.summary.last_seq;
    this.update((s) => clearTyping(applyIncomingMessage(s, m), m.conversation_id, m.sender_id));
    if (isNew && m.sender_id !== this.me) this.events.emit('incoming', m);
    if (this._state.conversations[m.conversation_id]?.gap) void this.fillGap(m.conversation_id);
  }

  /** Fetches one conversation's summary; false when it is gone or not ours any more. */
  refreshConversation(id: number): Promise<boolean> {
    const running = this.conversationFetches.get(id);
    if (running) return running;
    const p = (async () => {
      try {
        const summary = await this.request('get_conversation', { conversation_id: id });
        this.update((s) => applyConversation(s, summary));
        if (this._state.conversations[id]?.gap) void this.fillGap(id);
        return true;
      } catch (e) {
        if (isClientError(e) && (e.code === 'not_found' || e.code === 'not_member')) {
          this.update((s) => removeConversation(s, id));
        }
        return false;
      } finally {
        this.conversationFetches.delete(id);
      }
    })();
    this.conversationFetches.set(id, p);
    return p;
  }

  // ---- history ----

  /** Loads the newest page of a conversation the first time it is opened. */
  openConversation(id: number): Promise<void> {
    const entry = this._state.conversations[id];
    if (!entry || entry.loaded) return entry?.gap ? this.fillGap(id) : Promise.resolve();
    const running = this.latestLoads.get(id);
    if (running) return running;
    const p = (async () => {
      try {
        const page = await this.request('history', { conversation_id: id, limit: this.pageSize });
        this.update((s) => applyHistory(s, id, page, 'latest'));
        if (this._state.conversations[id]?.gap) await this.fillGap(id);
      } finally {
        this.latestLoads.delete(id);
      }
    })();
    this.latestLoads.set(id, p);
    return p;
  }

  /** Loads the page before the oldest held message. */
  loadOlder(id: number): Promise<void> {
    const entry = this._state.conversations[id];
    if (!entry || !entry.loaded || entry.historyComplete) return Promise.resolve();
    const running = this.olderLoads.get(id);
    if (running) return running;
    const before = entry.messages.length ? entry.messages[0].seq : entry.summary.last_seq + 1;
    const p = (async () => {
      try {
        const page = await this.request('history', { conversation_id: id, before, limit: this.pageSize });
        this.update((s) => applyHistory(s, id, page, 'before'));
      } finally {
        this.olderLoads.delete(id);
      }
    })();
    this.olderLoads.set(id, p);
    return p;
  }

  /** Fetches the messages of a gap, page by page, until it is closed. */
  async fillGap(id: number): Promise<void> {
    if (this.gapFetches.has(id)) return;
    this.gapFetches.add(id);
    try {
      for (let guard = 0; guard < 1000; guard++) {
        const gap = this._state.conversations[id]?.gap;
        if (!gap) break;
        const max = this._state.limits?.history_page_max ?? 200;
        const page = await this.request('history', { conversation_id: id, after: gap.after, limit: Math.min(max, 200) });
        this.update((s) => applyHistory(s, id, page, 'after'));
      }
    } catch (e) {
      if (!(isClientError(e) && e.transient)) console.warn('confab: filling a gap failed', e);
    } finally {
      this.gapFetches.delete(id);
    }
  }

  // ---- sending ----

  /** Queues a message and sends it; the returned key identifies it for retry and discard. */
  send(to: Target, content: Content, opts: SendOptions = {}): string {
    const client_msg_id = newClientMsgId();
    const conversation_id = 'conversation' in to ? to.conversation : this.directWith(to.user);
    const p: PendingMessage = {
      client_msg_id,
      conversation_id,
      to: conversation_id != null ? { conversation: conversation_id } : to,
      content,
      reply_to: opts.replyTo ?? null,
      mentions: opts.mentions ?? [],
      mention_all: opts.mentionAll ?? false,
      created_at: Date.now(),
      status: 'sending',
    };
    this.update((s) => addPending(s, p));
    void this.deliver(client_msg_id);
    return client_msg_id;
  }

  sendText(to: Target, text: string, opts?: SendOptions): string {
    return this.send(to, { type: 'text', text }, opts);
  }

  /** Sends a failed message again with the same idempotency key. */
  retry(clientMsgId: string): Promise<void> {
    this.update((s) => updatePending(s, clientMsgId, { status: 'sending', error: undefined, transient: undefined }));
    return this.deliver(clientMsgId);
  }

  discard(clientMsgId: string): void {
    this.update((s) => removePending(s, clientMsgId));
  }

  /** The id of the direct chat with a user, if one is held. */
  directWith(userId: number): number | null {
    for (const c of Object.values(this._state.conversations)) {
      if (c.summary.kind === 'direct' && c.summary.peer?.id === userId) return c.summary.id;
    }
    return null;
  }

  private async deliver(clientMsgId: string): Promise<void> {
    const p = this._state.pending.find((x) => x.client_msg_id === clientMsgId);
    if (!p) return;
    try {
      const ack = await this.request('send', {
        to: p.to,
        client_msg_id: p.client_msg_id,
        content: p.content,
        ...(p.reply_to != null ? { reply_to: p.reply_to } : {}),
        ...(p.mentions.length ? { mentions: p.mentions } : {}),
        ...(p.mention_all ? { mention_all: true } : {}),
      });
      if (!this._state.conversations[ack.conversation_id]) {
        this.update((s) => updatePending(s, clientMsgId, { conversation_id: ack.conversation_id, to: { conversation: ack.conversation_id } }));
        await this.refreshConversation(ack.conversation_id);
      }
      this.update((s) => applySendAck(s, clientMsgId, ack));
      if (this._state.conversations[ack.conversation_id]?.gap) void this.fillGap(ack.conversation_id);
    } catch (e) {
      const err = isClientError(e) ? e : new ClientError('internal', String(e));
      // Sending too fast: wait as told and try again with the same key, a few times.
      const tries = this.rateLimitedTries.get(clientMsgId) ?? 0;
      if (err.code === 'rate_limited' && tries < 5) {
        this.rateLimitedTries.set(clientMsgId, tries + 1);
        await new Promise((r) => setTimeout(r, Math.min(10_000, err.retryAfterMs ?? 1000)));
        return this.deliver(clientMsgId);
      }
      this.rateLimitedTries.delete(clientMsgId);
      this.update((s) => updatePending(s, clientMsgId, { status: 'failed', error: err.code, transient: err.transient }));
      return;
    }
    this.rateLimitedTries.delete(clientMsgId);
  }

  // ---- read state, recall, typing ----

  /** Marks everything up to `seq` read (optimistically; the server's answer settles it). */
  markRead(id: number, seq: number): void {
    const entry = this._state.conversations[id];
    if (!entry || seq <= entry.summary.read_seq) return;
    if ((this.readRequested.get(id) ?? 0) >= seq) return;
    this.readRequested.set(id, seq);
    this.update((s) => markReadLocally(s, id, seq));
    this.request('mark_read', { conversation_id: id, seq })
      .then((r) => this.update((s) => applyMarkRead(s, r)))
      .catch(() => this.readRequested.delete(id));
  }

  async recall(id: number, seq: number): Promise<void> {
    const ack = await this.request('recall', { conversation_id: id, seq });
    this.update((s) => applyRecallAck(s, id, seq, ack));
  }

  /** Tells the others this user is typing (at most every 3 seconds). */
  typing(id: number): void {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(id) ?? 0) < 3000) return;
    this.lastTypingSent.set(id, now);
    this.request('typing', { conversation_id: id }).catch(() => {});
  }

  /** Learns how far the peer of a direct chat has read (from the member list). */
  async loadPeerRead(id: number): Promise<void> {
    const entry = this._state.conversations[id];
    if (!entry || entry.summary.kind !== 'direct') return;
    try {
      const r = await this.request('members', { conversation_id: id });
      const peer = r.members.find((m) => m.user.id !== this.me);
      if (peer) this.update((s) => setPeerReadSeq(s, id, peer.read_seq));
    } catch {
      // Read receipts are a nicety.
    }
  }

  async setMuted(id: number, muted: boolean): Promise<void> {
    await this.request('set_muted', { conversation_id: id, muted });
    this.update((s) => patchSummary(s, id, { muted }));
  }

  /** Applies a summary learnt elsewhere (e.g. `create_group`'s answer). */
  upsertConversation(summary: ConversationSummary): void {
    this.update((s) => applyConversation(s, summary));
  }

  private ensureTypingTimer(): void {
    if (this.typingTimer) return;
    this.typingTimer = setInterval(() => {
      this.update((s) => pruneTyping(s, Date.now()));
      if (Object.keys(this._state.typing).length === 0 && this.typingTimer) {
        clearInterval(this.typingTimer);
        this.typingTimer = null;
      }
    }, 1000);
  }
}
