import { describe, expect, it } from 'vitest';
import {
  addPending,
  applyConversation,
  applyHistory,
  applyIncomingMessage,
  applyMarkRead,
  applyReadEvent,
  applyRecallAck,
  applySendAck,
  applySync,
  applyTyping,
  conversationTitle,
  countUnread,
  firstUnreadSeq,
  markReadLocally,
  mergeMessages,
  pruneTyping,
  sortedConversations,
  totalUnread,
  type PendingMessage,
} from '../store';
import { BOB, ME, msg, range, stateWith, summary } from './fixtures';

function loaded(last: number, read = last) {
  const s = stateWith(summary({ last_seq: last, read_seq: read, unread: 0 }));
  return applyHistory(s, 10, { messages: range(1, last), has_more: false }, 'latest');
}

describe('mergeMessages', () => {
  it('keeps seq order and each seq once, the incoming copy winning', () => {
    const a = [msg(1), msg(2), msg(4)];
    const recalled = { ...msg(2), content: { type: 'recalled' as const } };
    const merged = mergeMessages(a, [msg(5), recalled, msg(3), msg(3)]);
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(merged[1].content.type).toBe('recalled');
  });

  it('appends and prepends without touching the existing run', () => {
    const a = range(10, 12);
    expect(mergeMessages(a, range(13, 14)).map((m) => m.seq)).toEqual([10, 11, 12, 13, 14]);
    expect(mergeMessages(a, range(7, 9)).map((m) => m.seq)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(mergeMessages(a, [])).toBe(a);
  });

  it('handles 100,000 messages quickly', () => {
    const big = range(1, 100_000);
    const t = performance.now();
    const merged = mergeMessages(big, [msg(100_001)]);
    expect(merged.length).toBe(100_001);
    expect(performance.now() - t).toBeLessThan(200);
  });
});

describe('sync merging', () => {
  it('adds new conversations and drops ones the server no longer lists', () => {
    const s0 = stateWith(summary({ id: 10 }), summary({ id: 11, name: 'Gone' }));
    const s1 = applySync(s0, { conversations: [summary({ id: 10, last_seq: 3, unread: 2 }), summary({ id: 12, kind: 'group', name: 'Team' })], total_unread: 2 });
    expect(Object.keys(s1.conversations).map(Number).sort()).toEqual([10, 12]);
    expect(s1.conversations[10].summary.unread).toBe(2);
    expect(s1.synced).toBe(true);
  });

  it('keeps held messages and opens a gap up to the new last seq', () => {
    const s0 = loaded(5);
    const s1 = applySync(s0, { conversations: [summary({ last_seq: 9, read_seq: 5, unread: 4 })], total_unread: 4 });
    const c = s1.conversations[10];
    expect(c.messages.length).toBe(5);
    expect(c.gap).toEqual({ after: 5, until: 9 });
    expect(c.summary.unread).toBe(4);
    // Catching up closes the gap.
    const s2 = applyHistory(s1, 10, { messages: range(6, 9), has_more: false }, 'after');
    expect(s2.conversations[10].gap).toBeNull();
    expect(s2.conversations[10].messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('does not open a gap for conversations that hold nothing yet', () => {
    const s0 = stateWith(summary({ last_seq: 2 }));
    const s1 = applySync(s0, { conversations: [summary({ last_seq: 9 })], total_unread: 0 });
    expect(s1.conversations[10].gap).toBeNull();
  });

  it('keeps pushes newer than the sync snapshot', () => {
    let s = loaded(5);
    s = applyIncomingMessage(s, msg(6));
    s = applySync(s, { conversations: [summary({ last_seq: 5, read_seq: 5, unread: 0 })], total_unread: 0 });
    expect(s.conversations[10].summary.last_seq).toBe(6);
    expect(s.conversations[10].summary.unread).toBe(1);
    expect(s.conversations[10].gap).toBeNull();
  });

  it('a multi-page catch-up keeps the gap open until it is reached', () => {
    let s = loaded(2);
    s = applySync(s, { conversations: [summary({ last_seq: 10, read_seq: 2, unread: 8 })], total_unread: 8 });
    s = applyHistory(s, 10, { messages: range(3, 6), has_more: true }, 'after');
    expect(s.conversations[10].gap).toEqual({ after: 6, until: 10 });
    s = applyHistory(s, 10, { messages: range(7, 10), has_more: false }, 'after');
    expect(s.conversations[10].gap).toBeNull();
  });
});

describe('pushed messages: de-duplication and gaps', () => {
  it('appends the next message and ignores duplicates', () => {
    let s = loaded(3);
    s = applyIncomingMessage(s, msg(4));
    const again = applyIncomingMessage(s, msg(4));
    expect(again).toBe(s);
    expect(s.conversations[10].messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(s.conversations[10].summary.last_seq).toBe(4);
  });

  it('detects a gap when a message skips ahead', () => {
    let s = loaded(3);
    s = applyIncomingMessage(s, msg(7));
    expect(s.conversations[10].gap).toEqual({ after: 3, until: 6, uncounted: true });
    s = applyIncomingMessage(s, msg(9));
    expect(s.conversations[10].gap).toEqual({ after: 3, until: 8, uncounted: true });
    expect(s.conversations[10].summary.unread).toBe(2);
    // A message filling part of the hole is accepted and counted once.
    s = applyIncomingMessage(s, msg(5));
    expect(s.conversations[10].summary.unread).toBe(3);
    s = applyIncomingMessage(s, msg(5));
    expect(s.conversations[10].summary.unread).toBe(3);
    expect(s.conversations[10].messages.map((m) => m.seq)).toEqual([1, 2, 3, 5, 7, 9]);
    // Filling the gap counts the rest, once.
    s = applyHistory(s, 10, { messages: range(4, 9), has_more: false }, 'after');
    expect(s.conversations[10].gap).toBeNull();
    expect(s.conversations[10].summary.unread).toBe(6);
    expect(s.conversations[10].messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('ignores messages of unknown conversations (the client fetches them first)', () => {
    const s = loaded(3);
    expect(applyIncomingMessage(s, msg(1, BOB.id, 'x', 99))).toBe(s);
  });

  it('updates the summary of conversations not opened yet without holding messages', () => {
    let s = stateWith(summary({ last_seq: 3, read_seq: 3 }));
    s = applyIncomingMessage(s, msg(4));
    expect(s.conversations[10].messages).toEqual([]);
    expect(s.conversations[10].summary.last_message?.seq).toBe(4);
    expect(s.conversations[10].summary.unread).toBe(1);
  });
});

describe('unread counting', () => {
  it('counts others\' messages after the read position, not own or system ones', () => {
    let s = loaded(2);
    s = applyIncomingMessage(s, msg(3));
    s = applyIncomingMessage(s, msg(4));
    s = applyIncomingMessage(s, { ...msg(5), content: { type: 'system', kind: 'member_joined', user_id: 3 } });
    expect(s.conversations[10].summary.unread).toBe(2);
    expect(firstUnreadSeq(s.conversations[10], ME.id)).toBe(3);
    // Sending moves my own read position past everything.
    s = applyIncomingMessage(s, msg(6, ME.id));
    expect(s.conversations[10].summary.unread).toBe(0);
    expect(s.conversations[10].summary.read_seq).toBe(6);
  });

  it('flags mentions and clears them when read', () => {
    let s = loaded(2);
    s = applyIncomingMessage(s, { ...msg(3), mentions: [ME.id] });
    expect(s.conversations[10].summary.mentioned).toBe(true);
    s = markReadLocally(s, 10, 3);
    expect(s.conversations[10].summary.unread).toBe(0);
    expect(s.conversations[10].summary.mentioned).toBe(false);
  });

  it('takes the server\'s count from mark_read and read events, never moving backwards', () => {
    let s = loaded(2);
    s = applyIncomingMessage(s, msg(3));
    s = applyIncomingMessage(s, msg(4));
    s = applyMarkRead(s, { conversation_id: 10, read_seq: 3, unread: 1 });
    expect(s.conversations[10].summary).toMatchObject({ read_seq: 3, unread: 1 });
    s = applyReadEvent(s, { conversation_id: 10, user_id: ME.id, read_seq: 4, unread: 0 });
    expect(s.conversations[10].summary).toMatchObject({ read_seq: 4, unread: 0 });
    s = applyReadEvent(s, { conversation_id: 10, user_id: ME.id, read_seq: 2, unread: null });
    expect(s.conversations[10].summary.read_seq).toBe(4);
  });

  it('tracks the peer\'s read position in direct chats', () => {
    let s = loaded(4);
    s = applyReadEvent(s, { conversation_id: 10, user_id: BOB.id, read_seq: 3, unread: null });
    expect(s.conversations[10].peerReadSeq).toBe(3);
    s = applyReadEvent(s, { conversation_id: 10, user_id: BOB.id, read_seq: 2, unread: null });
    expect(s.conversations[10].peerReadSeq).toBe(3);
  });

  it('a recall of an unread message lowers the count', () => {
    let s = loaded(2);
    s = applyIncomingMessage(s, msg(3));
    expect(s.conversations[10].summary.unread).toBe(1);
    s = applyIncomingMessage(s, { ...msg(4), content: { type: 'system', kind: 'message_recalled', by: BOB.id, seq: 3 } });
    expect(s.conversations[10].summary.unread).toBe(0);
    expect(s.conversations[10].messages[2].content.type).toBe('recalled');
  });

  it('sums unread over unmuted conversations', () => {
    const s = stateWith(summary({ id: 1, unread: 2 }), summary({ id: 2, unread: 5, muted: true }), summary({ id: 3, unread: 1 }));
    expect(totalUnread(s)).toBe(3);
    expect(countUnread(range(1, 5), 3, ME.id)).toBe(2);
  });
});

describe('sending', () => {
  const pending = (id: string, conversation_id: number | null = 10): PendingMessage => ({
    client_msg_id: id,
    conversation_id,
    to: conversation_id ? { conversation: conversation_id } : { user: BOB.id },
    content: { type: 'text', text: 'hi' },
    reply_to: null,
    mentions: [],
    mention_all: false,
    created_at: 5,
    status: 'sending',
  });

  it('turns an acknowledged send into a message at its seq', () => {
    let s = loaded(2);
    s = addPending(s, pending('k1'));
    s = applySendAck(s, 'k1', { conversation_id: 10, seq: 3, created_at: 9, duplicate: false });
    expect(s.pending).toEqual([]);
    const m = s.conversations[10].messages[2];
    expect(m).toMatchObject({ seq: 3, sender_id: ME.id, client_msg_id: 'k1' });
  });

  it('drops a pending copy when the stored message comes back from history', () => {
    let s = loaded(2);
    s = addPending(s, pending('k2'));
    s = applyHistory(s, 10, { messages: [{ ...msg(3, ME.id), client_msg_id: 'k2' }], has_more: false }, 'after');
    expect(s.pending).toEqual([]);
  });

  it('records an own recall', () => {
    let s = loaded(3);
    s = applyIncomingMessage(s, msg(4, ME.id));
    s = applyRecallAck(s, 10, 4, { conversation_id: 10, seq: 5, created_at: 1, duplicate: false });
    const c = s.conversations[10];
    expect(c.messages.find((m) => m.seq === 4)?.content.type).toBe('recalled');
    expect(c.messages[c.messages.length - 1].content).toMatchObject({ type: 'system', kind: 'message_recalled', seq: 4 });
  });
});

describe('conversations', () => {
  it('sorts by activity and shows remarks first', () => {
    const s = stateWith(summary({ id: 1, last_activity: 5 }), summary({ id: 2, last_activity: 9 }), summary({ id: 3, last_activity: 7 }));
    expect(sortedConversations(s).map((c) => c.summary.id)).toEqual([2, 3, 1]);
    expect(conversationTitle(summary({ name: 'Bob', remark: 'Bobby' }))).toBe('Bobby');
    expect(conversationTitle(summary({ name: 'Bob', remark: '  ' }))).toBe('Bob');
  });

  it('applies membership system events to the summary', () => {
    let s = applyConversation(stateWith(), summary({ id: 20, kind: 'group', name: 'Team', member_count: 3, last_seq: 1, peer: null }));
    s = applyIncomingMessage(s, { ...msg(2, BOB.id, '', 20), content: { type: 'system', kind: 'group_renamed', by: BOB.id, name: 'Crew' } });
    s = applyIncomingMessage(s, { ...msg(3, BOB.id, '', 20), content: { type: 'system', kind: 'member_kicked', by: BOB.id, user_id: ME.id } });
    expect(s.conversations[20].summary).toMatchObject({ name: 'Crew', read_only: true, member_count: 2 });
  });

  it('expires typing indicators', () => {
    let s = loaded(1);
    s = applyTyping(s, { conversation_id: 10, user_id: BOB.id }, 1000);
    expect(s.typing[10][BOB.id]).toBeGreaterThan(1000);
    expect(pruneTyping(s, 2000)).toBe(s);
    expect(pruneTyping(s, 100_000).typing).toEqual({});
  });
});
