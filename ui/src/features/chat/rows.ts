// Turns a conversation's messages into the rows of the chat view: day separators, the unread
// marker, sender grouping, and pending sends at the end. Pure, so it is tested directly.

import type { Message } from '../../client';
import type { PendingMessage } from '../../client/store';
import { isCountable } from '../../client/store';

export type Row =
  | { kind: 'day'; key: string; at: number }
  | { kind: 'unread'; key: 'unread' }
  | { kind: 'start'; key: 'start' }
  | { kind: 'loading'; key: 'loading' }
  | { kind: 'system'; key: string; message: Message }
  | { kind: 'message'; key: string; message: Message; own: boolean; first: boolean; last: boolean }
  | { kind: 'pending'; key: string; pending: PendingMessage; first: boolean; last: boolean };

/** Messages from one sender closer than this run together without repeating the name. */
export const GROUP_WINDOW_MS = 5 * 60_000;

function localDay(ms: number, offsetMs: number): number {
  return Math.floor((ms - offsetMs) / 86_400_000);
}

export interface BuildRowsInput {
  messages: Message[];
  pending: PendingMessage[];
  me: number;
  /** Seq of the first unread message, to put the marker before. */
  firstUnread: number | null;
  historyComplete: boolean;
  loadingOlder: boolean;
  /** Minutes east of UTC, negated (as `Date#getTimezoneOffset`), for day boundaries. */
  tzOffsetMinutes?: number;
}

export function buildRows(input: BuildRowsInput): Row[] {
  const { messages, pending, me, firstUnread } = input;
  const offset = (input.tzOffsetMinutes ?? new Date().getTimezoneOffset()) * 60_000;
  const rows: Row[] = [];
  if (input.loadingOlder) rows.push({ kind: 'loading', key: 'loading' });
  else if (input.historyComplete) rows.push({ kind: 'start', key: 'start' });

  let prevDay = Number.NaN;
  let prevSender = -1;
  let prevAt = 0;
  let prevGroupable = false;
  let lastMessageRow = -1;

  const closeGroup = () => {
    const r = rows[lastMessageRow];
    if (r && (r.kind === 'message' || r.kind === 'pending')) rows[lastMessageRow] = { ...r, last: true };
  };

  for (const m of messages) {
    const day = localDay(m.created_at, offset);
    let breakGroup = false;
    if (day !== prevDay) {
      rows.push({ kind: 'day', key: `d${day}`, at: m.created_at });
      prevDay = day;
      breakGroup = true;
    }
    if (firstUnread != null && m.seq === firstUnread) {
      rows.push({ kind: 'unread', key: 'unread' });
      breakGroup = true;
    }
    if (m.content.type === 'system') {
      // A recall shows as the placeholder in the recalled message's place, not as a line.
      if (m.content.kind === 'message_recalled') continue;
      if (prevGroupable) closeGroup();
      rows.push({ kind: 'system', key: `m${m.seq}`, message: m });
      prevGroupable = false;
      continue;
    }
    const continues = !breakGroup && prevGroupable && prevSender === m.sender_id && m.created_at - prevAt < GROUP_WINDOW_MS;
    if (!continues && prevGroupable) closeGroup();
    rows.push({ kind: 'message', key: `m${m.seq}`, message: m, own: m.sender_id === me, first: !continues, last: false });
    lastMessageRow = rows.length - 1;
    prevSender = m.sender_id;
    prevAt = m.created_at;
    prevGroupable = true;
  }

  for (const p of pending) {
    const day = localDay(p.created_at, offset);
    let breakGroup = false;
    if (day !== prevDay) {
      rows.push({ kind: 'day', key: `d${day}`, at: p.created_at });
      prevDay = day;
      breakGroup = true;
    }
    const continues = !breakGroup && prevGroupable && prevSender === me && p.created_at - prevAt < GROUP_WINDOW_MS;
    if (!continues && prevGroupable) closeGroup();
    rows.push({ kind: 'pending', key: `p${p.client_msg_id}`, pending: p, first: !continues, last: false });
    lastMessageRow = rows.length - 1;
    prevSender = me;
    prevAt = p.created_at;
    prevGroupable = true;
  }
  if (prevGroupable) closeGroup();
  return rows;
}

/** Rough heights before measuring, so the scrollbar is about right from the start. */
export function estimateRowHeight(row: Row): number {
  switch (row.kind) {
    case 'day':
      return 40;
    case 'unread':
      return 36;
    case 'start':
    case 'loading':
      return 48;
    case 'system':
      return 32;
    case 'message':
    case 'pending': {
      const content = row.kind === 'message' ? row.message.content : row.pending.content;
      const text = content.type === 'text' ? content.text : '';
      const lines = Math.max(1, Math.ceil(text.length / 48) + (text.match(/\n/g)?.length ?? 0));
      const quote = (row.kind === 'message' ? row.message.reply_to : row.pending.reply_to) != null ? 44 : 0;
      return 20 + lines * 21 + (row.first ? 22 : 0) + quote + (row.last ? 6 : 2);
    }
  }
}

/** Whether a message counts toward unread (re-exported for the view). */
export { isCountable };
