// The assistant's live state: replies streaming as `assistant_delta` events (one draft per
// conversation, keyed by `reply_id`) and the personal results of summaries and translations.

import type { AssistantDelta, AssistantResult, ReplyStatus } from '../../client';

export interface ReplyDraft {
  conversationId: number;
  replyId: string;
  text: string;
  done: boolean;
  status?: ReplyStatus | null;
  /** Where the final message was stored (with `done`). */
  seq?: number | null;
}

export interface AssistantState {
  /** The reply streaming in each conversation. */
  drafts: Record<number, ReplyDraft>;
  /** Summaries shown in a conversation (newest last). */
  summaries: Record<number, AssistantResult | undefined>;
  /** Translations by `conversation:seq`. */
  translations: Record<string, AssistantResult>;
  /** Task ids asked for and not answered yet, with what they are for. */
  tasks: Record<string, { kind: 'summary' | 'translation'; conversationId: number; seq?: number }>;
}

export const emptyAssistantState = (): AssistantState => ({ drafts: {}, summaries: {}, translations: {}, tasks: {} });

/** Appends a delta to its reply's draft; a delta of another reply starts a new draft. */
export function applyDelta(s: AssistantState, d: AssistantDelta): AssistantState {
  const cur = s.drafts[d.conversation_id];
  const base = cur && cur.replyId === d.reply_id ? cur : { conversationId: d.conversation_id, replyId: d.reply_id, text: '', done: false };
  if (base.done && !d.done && cur === base) return s; // Late delta of a finished reply.
  const next: ReplyDraft = {
    ...base,
    text: base.text + d.delta,
    done: d.done,
    status: d.done ? (d.status ?? 'complete') : base.status,
    seq: d.done ? (d.seq ?? null) : base.seq,
  };
  return { ...s, drafts: { ...s.drafts, [d.conversation_id]: next } };
}

/** Drops a finished draft once its stored message is shown (or a draft the message replaced). */
export function dropDraft(s: AssistantState, conversationId: number, replyId?: string): AssistantState {
  const cur = s.drafts[conversationId];
  if (!cur || (replyId && cur.replyId !== replyId)) return s;
  const drafts = { ...s.drafts };
  delete drafts[conversationId];
  return { ...s, drafts };
}

export function addTask(s: AssistantState, taskId: string, task: AssistantState['tasks'][string]): AssistantState {
  const next = { ...s, tasks: { ...s.tasks, [taskId]: task } };
  if (task.kind === 'summary') next.summaries = { ...s.summaries, [task.conversationId]: undefined };
  return next;
}

export function applyResult(s: AssistantState, r: AssistantResult): AssistantState {
  const tasks = { ...s.tasks };
  delete tasks[r.task_id];
  if (r.kind === 'summary') return { ...s, tasks, summaries: { ...s.summaries, [r.conversation_id]: r } };
  return { ...s, tasks, translations: { ...s.translations, [`${r.conversation_id}:${r.seq ?? 0}`]: r } };
}

export function dismissSummary(s: AssistantState, conversationId: number): AssistantState {
  if (!(conversationId in s.summaries)) return s;
  const summaries = { ...s.summaries };
  delete summaries[conversationId];
  return { ...s, summaries };
}

export function dismissTranslation(s: AssistantState, conversationId: number, seq: number): AssistantState {
  const k = `${conversationId}:${seq}`;
  if (!(k in s.translations)) return s;
  const translations = { ...s.translations };
  delete translations[k];
  return { ...s, translations };
}

export function pendingTask(s: AssistantState, kind: 'summary' | 'translation', conversationId: number, seq?: number): boolean {
  return Object.values(s.tasks).some((t) => t.kind === kind && t.conversationId === conversationId && (seq == null || t.seq === seq));
}
