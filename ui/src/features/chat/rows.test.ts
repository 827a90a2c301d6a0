import { describe, expect, it } from 'vitest';
import type { Message } from '../../client';
import type { PendingMessage } from '../../client/store';
import { buildRows, GROUP_WINDOW_MS } from './rows';

const DAY = 86_400_000;
const base = Date.UTC(2026, 0, 10, 12, 0, 0);

function m(seq: number, sender: number, at: number, content: Message['content'] = { type: 'text', text: `m${seq}` }): Message {
  return { conversation_id: 1, seq, sender_id: sender, client_msg_id: null, created_at: at, content, reply_to: null, mentions: [], mention_all: false };
}

const kinds = (rows: ReturnType<typeof buildRows>) =>
  rows.map((r) => (r.kind === 'message' ? `${r.message.seq}${r.first ? 'F' : ''}${r.last ? 'L' : ''}` : r.kind));

describe('buildRows', () => {
  it('groups consecutive messages of one sender and separates days', () => {
    const rows = buildRows({
      messages: [m(1, 2, base), m(2, 2, base + 1000), m(3, 1, base + 2000), m(4, 1, base + DAY), m(5, 1, base + DAY + GROUP_WINDOW_MS + 1)],
      pending: [],
      me: 1,
      firstUnread: null,
      historyComplete: true,
      loadingOlder: false,
      tzOffsetMinutes: 0,
    });
    expect(kinds(rows)).toEqual(['start', 'day', '1F', '2L', '3FL', 'day', '4FL', '5FL']);
    expect(rows.filter((r) => r.kind === 'message' && r.own).length).toBe(3);
  });

  it('puts the unread marker before the first unread and breaks the group there', () => {
    const rows = buildRows({
      messages: [m(1, 2, base), m(2, 2, base + 1000), m(3, 2, base + 2000)],
      pending: [],
      me: 1,
      firstUnread: 2,
      historyComplete: false,
      loadingOlder: true,
      tzOffsetMinutes: 0,
    });
    expect(kinds(rows)).toEqual(['loading', 'day', '1FL', 'unread', '2F', '3L']);
  });

  it('shows system events as lines, hides recall events, and ends with pending sends', () => {
    const pending: PendingMessage = {
      client_msg_id: 'k',
      conversation_id: 1,
      to: { conversation: 1 },
      content: { type: 'text', text: 'p' },
      reply_to: null,
      mentions: [],
      mention_all: false,
      created_at: base + 5000,
      status: 'sending',
    };
    const rows = buildRows({
      messages: [
        m(1, 1, base),
        m(2, 2, base + 1000, { type: 'system', kind: 'member_joined', user_id: 2 }),
        m(3, 1, base + 2000, { type: 'recalled' }),
        m(4, 1, base + 3000, { type: 'system', kind: 'message_recalled', by: 1, seq: 3 }),
      ],
      pending: [pending],
      me: 1,
      firstUnread: null,
      historyComplete: true,
      loadingOlder: false,
      tzOffsetMinutes: 0,
    });
    expect(rows.map((r) => r.kind)).toEqual(['start', 'day', 'message', 'system', 'message', 'pending']);
    const last = rows[rows.length - 1];
    expect(last.kind === 'pending' && !last.first && last.last).toBe(true);
  });

  it('builds rows for 100,000 messages quickly', () => {
    const messages = Array.from({ length: 100_000 }, (_, i) => m(i + 1, i % 3 ? 2 : 1, base + i * 30_000));
    const t0 = performance.now();
    const rows = buildRows({ messages, pending: [], me: 1, firstUnread: 99_990, historyComplete: true, loadingOlder: false });
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(rows.filter((r) => r.kind === 'message').length).toBe(100_000);
  });
});
