import { describe, expect, it } from 'vitest';
import { addTask, applyDelta, applyResult, dismissSummary, dropDraft, emptyAssistantState, pendingTask } from './assistantState';

const d = (delta: string, extra: Partial<{ reply_id: string; done: boolean; seq: number; status: 'complete' | 'stopped' | 'failed'; conversation_id: number }> = {}) => ({
  conversation_id: 7,
  reply_id: 'r1',
  delta,
  done: false,
  ...extra,
});

describe('assistant reply drafts', () => {
  it('accumulates deltas in order under one reply id', () => {
    let s = emptyAssistantState();
    s = applyDelta(s, d('Hel'));
    s = applyDelta(s, d('lo'));
    s = applyDelta(s, d('!'));
    expect(s.drafts[7]).toMatchObject({ replyId: 'r1', text: 'Hello!', done: false });
    s = applyDelta(s, d('', { done: true, seq: 2, status: 'complete' }));
    expect(s.drafts[7]).toMatchObject({ text: 'Hello!', done: true, seq: 2, status: 'complete' });
  });

  it('keeps conversations apart and starts over for a new reply', () => {
    let s = applyDelta(emptyAssistantState(), d('A'));
    s = applyDelta(s, d('B', { conversation_id: 8, reply_id: 'r9' }));
    expect(s.drafts[7].text).toBe('A');
    expect(s.drafts[8].text).toBe('B');
    s = applyDelta(s, d('new', { reply_id: 'r2' }));
    expect(s.drafts[7]).toMatchObject({ replyId: 'r2', text: 'new' });
  });

  it('records a stopped reply and drops only the matching draft', () => {
    let s = applyDelta(emptyAssistantState(), d('partial'));
    s = applyDelta(s, d('', { done: true, status: 'stopped', seq: 5 }));
    expect(s.drafts[7].status).toBe('stopped');
    expect(dropDraft(s, 7, 'other')).toBe(s);
    expect(dropDraft(s, 7, 'r1').drafts[7]).toBeUndefined();
  });

  it('ignores a late delta of a finished reply', () => {
    let s = applyDelta(emptyAssistantState(), d('x'));
    s = applyDelta(s, d('', { done: true, seq: 3 }));
    expect(applyDelta(s, d('late'))).toBe(s);
  });
});

describe('assistant results', () => {
  it('tracks a summary from request to result, and dismisses it', () => {
    let s = addTask(emptyAssistantState(), 't1', { kind: 'summary', conversationId: 9 });
    expect(pendingTask(s, 'summary', 9)).toBe(true);
    s = applyResult(s, { task_id: 't1', kind: 'summary', conversation_id: 9, text: '- a', message_count: 2 });
    expect(pendingTask(s, 'summary', 9)).toBe(false);
    expect(s.summaries[9]?.text).toBe('- a');
    expect(dismissSummary(s, 9).summaries[9]).toBeUndefined();
  });

  it('keeps translations per message', () => {
    let s = addTask(emptyAssistantState(), 't2', { kind: 'translation', conversationId: 9, seq: 12 });
    expect(pendingTask(s, 'translation', 9, 12)).toBe(true);
    expect(pendingTask(s, 'translation', 9, 13)).toBe(false);
    s = applyResult(s, { task_id: 't2', kind: 'translation', conversation_id: 9, seq: 12, text: 'oui' });
    expect(s.translations['9:12'].text).toBe('oui');
  });
});
