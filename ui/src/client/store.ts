// Client state and the pure functions that move it. Nothing here talks to the network: the
// client feeds in what arrives (sync results, history pages, pushed messages, acknowledgements)
// and reads back what to fetch (gaps). Every function returns a new state and leaves its
// input untouched, so React can compare by reference.

import type {
  Content,
  ConversationSummary,
  Limits,
  MarkReadResponse,
  Message,
  ReadEvent,
  SendResponse,
  SyncResponse,
  Target,
  TypingEvent,
  UserPublic,
} from './protocol';

/** A message this device is sending or failed to send. */
export interface PendingMessage {
  client_msg_id: string;
  /** Null for the first message to a user (the direct chat does not exist yet). */
  conversation_id: number | null;
  to: Target;
  content: Content;
  reply_to: number | null;
  mentions: number[];
  mention_all: boolean;
  created_at: number;
  status: 'sending' | 'failed';
  /** The error code of the last failure. */
  error?: string;
  /** The last failure was the connection's, not the server's refusal: resend on reconnect. */
  transient?: boolean;
}

export interface ConversationEntry {
  summary: ConversationSummary;
  /** Messages held, ascending by seq, each seq once. */
  messages: Message[];
  /** The newest messages are held (the conversation was opened at least once). */
  loaded: boolean;
  /** Nothing older than the first held message remains on the server. */
  historyComplete: boolean;
  /**
   * Messages in (after, until] are missing and must be fetched with `history` `after`.
   * `uncounted`: the gap was seen in pushed messages, so its messages are not in the unread
   * count yet (a gap learnt from a sync is already counted by the server).
   */
  gap: { after: number; until: number; uncounted?: boolean } | null;
  /** In a direct chat: how far the peer has read. */
  peerReadSeq: number;
}

export interface ChatState {
  me: UserPublic | null;
  limits: Limits | null;
  conversations: Record<number, ConversationEntry>;
  /** Sends not yet acknowledged, oldest first. */
  pending: PendingMessage[];
  /** conversation id → user id → when the typing indicator expires. */
  typing: Record<number, Record<number, number>>;
  /** The first sync of this session completed. */
  synced: boolean;
}

export function emptyState(): ChatState {
  return { me: null, limits: null, conversations: {}, pending: [], typing: {}, synced: false };
}

// ---- message helpers ----

/** Messages that count as unread when someone else sent them (not system lines or recalls). */
export function isCountable(m: Pick<Message, 'content'>): boolean {
  return m.content.type !== 'system' && m.content.type !== 'recalled';
}

export function mentionsUser(m: Pick<Message, 'mentions' | 'mention_all'>, userId: number): boolean {
  return m.mention_all || m.mentions.includes(userId);
}

function lastSeqOf(messages: Message[]): number {
  return messages.length ? messages[messages.length - 1].seq : 0;
}

/** Index of the message with this seq, or -1 (binary search). */
export function indexOfSeq(messages: Message[], seq: number): number {
  let lo = 0;
  let hi = messages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = messages[mid].seq;
    if (s === seq) return mid;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

export function findMessage(entry: ConversationEntry | undefined, seq: number): Message | undefined {
  if (!entry) return undefined;
  const i = indexOfSeq(entry.messages, seq);
  return i >= 0 ? entry.messages[i] : undefined;
}

/**
 * Merges two ascending runs into one, each seq once; on a clash the incoming copy wins (it is
 * the server's newer word, e.g. a recalled message).
 */
export function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return existing;
  const sorted = isAscending(incoming) ? incoming : [...incoming].sort((a, b) => a.seq - b.seq);
  if (existing.length === 0) return dedupeSorted(sorted);
  if (sorted[0].seq > existing[existing.length - 1].seq) return existing.concat(dedupeSorted(sorted));
  if (sorted[sorted.length - 1].seq < existing[0].seq) return dedupeSorted(sorted).concat(existing);
  const out: Message[] = [];
  let i = 0;
  let j = 0;
  while (i < existing.length || j < sorted.length) {
    const a = existing[i];
    const b = sorted[j];
    let next: Message;
    if (b === undefined || (a !== undefined && a.seq < b.seq)) {
      next = a;
      i++;
    } else if (a === undefined || b.seq < a.seq) {
      next = b;
      j++;
    } else {
      next = b;
      i++;
      j++;
    }
    if (out.length && out[out.length - 1].seq === next.seq) out[out.length - 1] = next;
    else out.push(next);
  }
  return out;
}

function isAscending(ms: Message[]): boolean {
  for (let i = 1; i < ms.length; i++) if (ms[i].seq < ms[i - 1].seq) return false;
  return true;
}

function dedupeSorted(ms: Message[]): Message[] {
  let dup = false;
  for (let i = 1; i < ms.length; i++) if (ms[i].seq === ms[i - 1].seq) dup = true;
  if (!dup) return ms;
  const out: Message[] = [];
  for (const m of ms) {
    if (out.length && out[out.length - 1].seq === m.seq) out[out.length - 1] = m;
    else out.push(m);
  }
  return out;
}

function unionGap(
  gap: ConversationEntry['gap'],
  after: number,
  until: number,
  uncounted = false,
): ConversationEntry['gap'] {
  if (until <= after) return gap;
  if (!gap) return uncounted ? { after, until, uncounted } : { after, until };
  const merged = { after: Math.min(gap.after, after), until: Math.max(gap.until, until) };
  // A sync's summary counts everything up to its last seq: the union is counted then.
  return uncounted && gap.uncounted ? { ...merged, uncounted: true } : merged;
}

/** Unread messages among those held: others' countable messages after `readSeq`. */
export function countUnread(messages: Message[], readSeq: number, me: number): number {
  let n = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.seq <= readSeq) break;
    if (m.sender_id !== me && isCountable(m)) n++;
  }
  return n;
}

function newEntry(summary: ConversationSummary): ConversationEntry {
  return { summary, messages: [], loaded: false, historyComplete: false, gap: null, peerReadSeq: 0 };
}

function withEntry(state: ChatState, entry: ConversationEntry): ChatState {
  return { ...state, conversations: { ...state.conversations, [entry.summary.id]: entry } };
}

function meId(state: ChatState): number {
  return state.me?.id ?? 0;
}

// ---- reducers ----

export function applyHello(state: ChatState, me: UserPublic, limits: Limits): ChatState {
  return { ...state, me, limits };
}

/**
 * Merges a sync result. Conversations keep the messages they hold; one whose newest seq is
 * beyond what it holds gets a gap to fetch. Conversations the server no longer lists are
 * dropped.
 */
export function applySync(state: ChatState, sync: SyncResponse): ChatState {
  const me = meId(state);
  const conversations: Record<number, ConversationEntry> = {};
  for (const s of sync.conversations) {
    const old = state.conversations[s.id];
    if (!old) {
      conversations[s.id] = newEntry(s);
      continue;
    }
    let summary = s;
    // Pushed messages newer than the sync snapshot stay.
    if (old.summary.last_seq > s.last_seq) {
      const newer = old.messages.filter((m) => m.seq > s.last_seq && m.seq > s.read_seq);
      summary = {
        ...s,
        last_seq: old.summary.last_seq,
        last_message: old.summary.last_message,
        last_activity: Math.max(s.last_activity, old.summary.last_activity),
        unread: s.unread + countUnread(newer, s.read_seq, me),
      };
    }
    let entry: ConversationEntry = { ...old, summary };
    if (old.loaded) {
      const held = lastSeqOf(old.messages);
      if (summary.last_seq > held) entry = { ...entry, gap: unionGap(entry.gap, held, summary.last_seq) };
    }
    conversations[s.id] = entry;
  }
  return { ...state, conversations, synced: true };
}

/** Inserts or refreshes one conversation's summary (from `get_conversation`, `create_group`). */
export function applyConversation(state: ChatState, summary: ConversationSummary): ChatState {
  const old = state.conversations[summary.id];
  if (!old) return withEntry(state, newEntry(summary));
  let merged = summary;
  if (old.summary.last_seq > summary.last_seq) {
    merged = {
      ...summary,
      last_seq: old.summary.last_seq,
      last_message: old.summary.last_message,
      last_activity: Math.max(old.summary.last_activity, summary.last_activity),
    };
  }
  let entry: ConversationEntry = { ...old, summary: merged };
  if (old.loaded) {
    const held = lastSeqOf(old.messages);
    if (merged.last_seq > held) entry = { ...entry, gap: unionGap(entry.gap, held, merged.last_seq) };
  }
  return withEntry(state, entry);
}

export function removeConversation(state: ChatState, id: number): ChatState {
  if (!state.conversations[id]) return state;
  const conversations = { ...state.conversations };
  delete conversations[id];
  return { ...state, conversations };
}

/** Effects of system events on what is held: recalls erase, renames rename, removals lock. */
function applyEffects(entry: ConversationEntry, m: Message, me: number, live: boolean): ConversationEntry {
  if (m.content.type !== 'system') return entry;
  const ev = m.content;
  let summary = entry.summary;
  let messages = entry.messages;
  switch (ev.kind) {
    case 'message_recalled': {
      const i = indexOfSeq(messages, ev.seq);
      if (i >= 0 && messages[i].content.type !== 'recalled') {
        const original = messages[i];
        messages = messages.slice();
        messages[i] = { ...original, content: { type: 'recalled' } };
        if (live && original.sender_id !== me && isCountable(original) && original.seq > summary.read_seq) {
          summary = { ...summary, unread: Math.max(0, summary.unread - 1) };
        }
      }
      if (summary.last_message && summary.last_message.seq === ev.seq) {
        summary = { ...summary, last_message: { ...summary.last_message, content: { type: 'recalled' } } };
      }
      break;
    }
    case 'group_renamed':
      if (live) summary = { ...summary, name: ev.name };
      break;
    case 'members_added':
      if (live) summary = { ...summary, member_count: summary.member_count + ev.user_ids.filter((u) => u !== me).length };
      break;
    case 'member_joined':
      if (live && ev.user_id !== me) summary = { ...summary, member_count: summary.member_count + 1 };
      break;
    case 'member_left':
    case 'member_kicked':
      if (live) {
        summary = { ...summary, member_count: Math.max(0, summary.member_count - 1) };
        if (ev.user_id === me) summary = { ...summary, read_only: true };
      }
      break;
    case 'group_dissolved':
      if (live) summary = { ...summary, read_only: true };
      break;
    case 'owner_transferred':
      if (live && ev.to === me) summary = { ...summary, role: 'owner' };
      else if (live && ev.from === me) summary = { ...summary, role: 'admin' };
      break;
    case 'role_changed':
      if (live && ev.user_id === me) summary = { ...summary, role: ev.role };
      break;
    default:
      break;
  }
  if (summary === entry.summary && messages === entry.messages) return entry;
  return { ...entry, summary, messages };
}

function dropPendingFor(state: ChatState, messages: Message[]): PendingMessage[] {
  if (!state.pending.length) return state.pending;
  const me = meId(state);
  const ids = new Set<string>();
  for (const m of messages) if (m.sender_id === me && m.client_msg_id) ids.add(m.client_msg_id);
  if (!ids.size) return state.pending;
  const next = state.pending.filter((p) => !ids.has(p.client_msg_id));
  return next.length === state.pending.length ? state.pending : next;
}

/**
 * A pushed message (or one of this device's acknowledged sends). Duplicates are dropped;
 * a message beyond the next expected seq opens a gap to fetch. Returns the state unchanged
 * when the conversation is unknown (the caller fetches it first).
 */
export function applyIncomingMessage(state: ChatState, m: Message): ChatState {
  const old = state.conversations[m.conversation_id];
  if (!old) return state;
  const me = meId(state);
  let entry = old;
  const isNew = m.seq > old.summary.last_seq;
  if (!isNew) {
    // Known already, or older than the newest: only fill a hole in what is held.
    if (!old.loaded || indexOfSeq(old.messages, m.seq) >= 0) return state;
    if (old.messages.length === 0 || m.seq < old.messages[0].seq) return state;
    entry = { ...old, messages: mergeMessages(old.messages, [m]) };
    const g = old.gap;
    if (g?.uncounted && m.seq > g.after && m.seq <= g.until && m.sender_id !== me && isCountable(m) && m.seq > old.summary.read_seq) {
      // Part of a gap seen in pushes: not counted yet.
      entry.summary = { ...old.summary, unread: old.summary.unread + 1, mentioned: old.summary.mentioned || mentionsUser(m, me) };
    }
    entry = applyEffects(entry, m, me, false);
    return { ...withEntry(state, entry), pending: dropPendingFor(state, [m]) };
  }
  let summary: ConversationSummary = {
    ...old.summary,
    last_seq: m.seq,
    last_message: m,
    last_activity: Math.max(old.summary.last_activity, m.created_at),
  };
  if (m.sender_id === me) {
    // Sending moves the sender's read position to the message (the server does the same).
    if (m.content.type !== 'system') summary = { ...summary, read_seq: Math.max(summary.read_seq, m.seq), unread: 0, mentioned: false };
  } else if (isCountable(m) && m.seq > summary.read_seq) {
    summary = { ...summary, unread: summary.unread + 1, mentioned: summary.mentioned || mentionsUser(m, me) };
  }
  entry = { ...old, summary };
  if (m.sender_id !== me && old.summary.kind === 'direct' && m.content.type !== 'system') {
    entry.peerReadSeq = Math.max(entry.peerReadSeq, m.seq);
  }
  if (old.loaded) {
    const held = lastSeqOf(old.messages);
    if (old.messages.length && m.seq > held + 1) entry.gap = unionGap(entry.gap, held, m.seq - 1, true);
    entry.messages = mergeMessages(old.messages, [m]);
  }
  entry = applyEffects(entry, m, me, true);
  return { ...withEntry(state, entry), pending: dropPendingFor(state, [m]) };
}

export type HistoryMode = 'latest' | 'before' | 'after';

/** A history page: `latest` (newest page), `before` (older) or `after` (catching up). */
export function applyHistory(
  state: ChatState,
  conversationId: number,
  page: { messages: Message[]; has_more: boolean },
  mode: HistoryMode,
): ChatState {
  const old = state.conversations[conversationId];
  if (!old) return state;
  const me = meId(state);
  let entry: ConversationEntry = { ...old, messages: mergeMessages(old.messages, page.messages) };
  const gap = old.gap;
  if (mode === 'after' && gap?.uncounted) {
    // Messages of a gap seen in pushes were never counted: count the new ones now.
    let unread = 0;
    let mentioned = false;
    for (const m of page.messages) {
      if (m.seq <= gap.after || m.seq > gap.until || m.seq <= old.summary.read_seq) continue;
      if (m.sender_id === me || !isCountable(m) || indexOfSeq(old.messages, m.seq) >= 0) continue;
      unread++;
      mentioned ||= mentionsUser(m, me);
    }
    if (unread) {
      entry.summary = { ...old.summary, unread: old.summary.unread + unread, mentioned: old.summary.mentioned || mentioned };
    }
  }
  if (mode === 'latest') {
    entry.loaded = true;
    entry.historyComplete = !page.has_more;
  } else if (mode === 'before') {
    entry.historyComplete = !page.has_more;
  }
  // Effects of recalls in the page reach messages held from earlier pages.
  for (const m of page.messages) entry = applyEffects(entry, m, me, false);
  const held = lastSeqOf(entry.messages);
  if (held > entry.summary.last_seq) {
    const last = entry.messages[entry.messages.length - 1];
    entry = {
      ...entry,
      summary: {
        ...entry.summary,
        last_seq: held,
        last_message: last,
        last_activity: Math.max(entry.summary.last_activity, last.created_at),
      },
    };
  }
  if (mode === 'after' && entry.gap) {
    const reached = page.messages.length ? lastSeqOf(page.messages) : entry.gap.after;
    entry = {
      ...entry,
      gap: !page.has_more || reached >= entry.gap.until ? null : { ...entry.gap, after: Math.max(entry.gap.after, reached) },
    };
  }
  return { ...withEntry(state, entry), pending: dropPendingFor(state, page.messages) };
}

export function addPending(state: ChatState, p: PendingMessage): ChatState {
  return { ...state, pending: [...state.pending.filter((x) => x.client_msg_id !== p.client_msg_id), p] };
}

export function updatePending(state: ChatState, clientMsgId: string, patch: Partial<PendingMessage>): ChatState {
  let changed = false;
  const pending = state.pending.map((p) => {
    if (p.client_msg_id !== clientMsgId) return p;
    changed = true;
    return { ...p, ...patch };
  });
  return changed ? { ...state, pending } : state;
}

export function removePending(state: ChatState, clientMsgId: string): ChatState {
  const pending = state.pending.filter((p) => p.client_msg_id !== clientMsgId);
  return pending.length === state.pending.length ? state : { ...state, pending };
}

/** The server stored a pending send: it becomes a message at its seq. */
export function applySendAck(state: ChatState, clientMsgId: string, ack: SendResponse): ChatState {
  const p = state.pending.find((x) => x.client_msg_id === clientMsgId);
  if (!p) return state;
  const me = meId(state);
  const message: Message = {
    conversation_id: ack.conversation_id,
    seq: ack.seq,
    sender_id: me,
    client_msg_id: p.client_msg_id,
    created_at: ack.created_at,
    content: p.content,
    reply_to: p.reply_to,
    mentions: p.mentions,
    mention_all: p.mention_all,
  };
  const next = removePending(state, clientMsgId);
  if (!next.conversations[ack.conversation_id]) return next;
  return applyIncomingMessage(next, message);
}

/** Our own recall was accepted: the message is erased and the recall's event recorded. */
export function applyRecallAck(state: ChatState, conversationId: number, targetSeq: number, ack: SendResponse): ChatState {
  const me = meId(state);
  const event: Message = {
    conversation_id: conversationId,
    seq: ack.seq,
    sender_id: me,
    client_msg_id: null,
    created_at: ack.created_at,
    content: { type: 'system', kind: 'message_recalled', by: me, seq: targetSeq },
    reply_to: null,
    mentions: [],
    mention_all: false,
  };
  return applyIncomingMessage(state, event);
}

export function applyReadEvent(state: ChatState, ev: ReadEvent): ChatState {
  const old = state.conversations[ev.conversation_id];
  if (!old) return state;
  if (ev.user_id === meId(state)) {
    if (ev.read_seq < old.summary.read_seq && ev.unread == null) return state;
    const read_seq = Math.max(old.summary.read_seq, ev.read_seq);
    const unread = ev.unread ?? (old.loaded ? countUnread(old.messages, read_seq, meId(state)) : old.summary.unread);
    return withEntry(state, {
      ...old,
      summary: { ...old.summary, read_seq, unread, mentioned: unread > 0 && old.summary.mentioned },
    });
  }
  if (ev.read_seq <= old.peerReadSeq) return state;
  return withEntry(state, { ...old, peerReadSeq: ev.read_seq });
}

/** Optimistic local read: everything up to `seq` is read. */
export function markReadLocally(state: ChatState, conversationId: number, seq: number): ChatState {
  const old = state.conversations[conversationId];
  if (!old || seq <= old.summary.read_seq) return state;
  const unread = old.loaded && seq >= lastSeqOf(old.messages) ? 0 : old.loaded ? countUnread(old.messages, seq, meId(state)) : old.summary.unread;
  return withEntry(state, {
    ...old,
    summary: { ...old.summary, read_seq: seq, unread, mentioned: unread > 0 && old.summary.mentioned },
  });
}

export function applyMarkRead(state: ChatState, r: MarkReadResponse): ChatState {
  const old = state.conversations[r.conversation_id];
  if (!old) return state;
  const read_seq = Math.max(old.summary.read_seq, r.read_seq);
  // A message may have arrived after the request: keep counting it.
  const later = old.loaded ? countUnread(old.messages, Math.max(read_seq, lastSeqOf(old.messages)), meId(state)) : 0;
  const unread = r.read_seq >= old.summary.read_seq ? r.unread + later : old.summary.unread;
  return withEntry(state, {
    ...old,
    summary: { ...old.summary, read_seq, unread, mentioned: unread > 0 && old.summary.mentioned },
  });
}

export function setPeerReadSeq(state: ChatState, conversationId: number, seq: number): ChatState {
  const old = state.conversations[conversationId];
  if (!old || seq <= old.peerReadSeq) return state;
  return withEntry(state, { ...old, peerReadSeq: seq });
}

export function patchSummary(state: ChatState, conversationId: number, patch: Partial<ConversationSummary>): ChatState {
  const old = state.conversations[conversationId];
  if (!old) return state;
  return withEntry(state, { ...old, summary: { ...old.summary, ...patch } });
}

export const TYPING_TTL_MS = 6000;

export function applyTyping(state: ChatState, ev: TypingEvent, now: number): ChatState {
  if (ev.user_id === meId(state)) return state;
  const conv = { ...(state.typing[ev.conversation_id] ?? {}), [ev.user_id]: now + TYPING_TTL_MS };
  return { ...state, typing: { ...state.typing, [ev.conversation_id]: conv } };
}

/** A message from someone ends their typing indicator. */
export function clearTyping(state: ChatState, conversationId: number, userId: number): ChatState {
  const conv = state.typing[conversationId];
  if (!conv || !(userId in conv)) return state;
  const next = { ...conv };
  delete next[userId];
  return { ...state, typing: { ...state.typing, [conversationId]: next } };
}

export function pruneTyping(state: ChatState, now: number): ChatState {
  let changed = false;
  const typing: ChatState['typing'] = {};
  for (const [cid, users] of Object.entries(state.typing)) {
    const kept: Record<number, number> = {};
    for (const [uid, until] of Object.entries(users)) {
      if (until > now) kept[Number(uid)] = until;
      else changed = true;
    }
    if (Object.keys(kept).length) typing[Number(cid)] = kept;
    else if (Object.keys(users).length) changed = true;
  }
  return changed ? { ...state, typing } : state;
}

// ---- selectors ----

/** Conversations by activity, newest first. */
export function sortedConversations(state: ChatState): ConversationEntry[] {
  return Object.values(state.conversations).sort(
    (a, b) => b.summary.last_activity - a.summary.last_activity || b.summary.id - a.summary.id,
  );
}

/** Unread messages in conversations that are not muted. */
export function totalUnread(state: ChatState): number {
  let n = 0;
  for (const e of Object.values(state.conversations)) if (!e.summary.muted) n += e.summary.unread;
  return n;
}

/** The first unread message held (others' countable message after the read position). */
export function firstUnreadSeq(entry: ConversationEntry, me: number): number | null {
  if (entry.summary.unread === 0) return null;
  const read = entry.summary.read_seq;
  let lo = 0;
  let hi = entry.messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entry.messages[mid].seq <= read) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < entry.messages.length; i++) {
    const m = entry.messages[i];
    if (m.sender_id !== me && isCountable(m)) return m.seq;
  }
  return null;
}

/** The name a person sees for a conversation: their remark, else its name. */
export function conversationTitle(s: ConversationSummary): string {
  return s.remark?.trim() || s.name || (s.peer ? s.peer.display_name || s.peer.username : '');
}

export function pendingFor(state: ChatState, conversationId: number): PendingMessage[] {
  return state.pending.filter((p) => p.conversation_id === conversationId);
}
