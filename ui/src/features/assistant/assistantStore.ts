// The assistant service: its status (`assistant_status`), live reply drafts and personal
// summary/translation results, fed by the client's events.

import { isClientError, type AssistantStatus, type ConfabClient } from '../../client';
import {
  addTask,
  applyDelta,
  applyResult,
  dismissSummary,
  dismissTranslation,
  dropDraft,
  emptyAssistantState,
  type AssistantState,
} from './assistantState';

export class AssistantStore {
  private _state: AssistantState = emptyAssistantState();
  private _status: AssistantStatus | null = null;
  private statusLoad: Promise<void> | null = null;
  private version = 0;
  private listeners = new Set<() => void>();
  private unsub: Array<() => void> = [];

  constructor(private readonly client: ConfabClient) {
    this.unsub.push(
      client.events.on('event', (ev) => {
        if (ev.event === 'assistant_delta') {
          this.update(applyDelta(this._state, ev.data));
          if (ev.data.done) {
            // The stored message arrives as a `message` event around the same time: let it
            // land, then drop the draft.
            const { conversation_id, reply_id } = ev.data;
            setTimeout(() => this.update(dropDraft(this._state, conversation_id, reply_id)), 400);
          }
        } else if (ev.event === 'assistant_result') {
          this.update(applyResult(this._state, ev.data));
        } else if (ev.event === 'message' && ev.data.content.type === 'assistant') {
          const d = this._state.drafts[ev.data.conversation_id];
          if (d && d.replyId === ev.data.content.reply_id) this.update(dropDraft(this._state, ev.data.conversation_id, d.replyId));
        }
      }),
      client.events.on('hello', () => {
        this._status = null;
        this.statusLoad = null;
        void this.loadStatus();
      }),
    );
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getVersion = (): number => this.version;

  get state(): AssistantState {
    return this._state;
  }

  /** Null until known. */
  get status(): AssistantStatus | null {
    return this._status;
  }

  get botId(): number | null {
    return this._status?.configured ? (this._status.bot?.id ?? null) : null;
  }

  private update(next: AssistantState): void {
    if (next === this._state) return;
    this._state = next;
    this.bump();
  }

  private bump(): void {
    this.version++;
    for (const l of [...this.listeners]) l();
  }

  loadStatus(): Promise<void> {
    if (!this.statusLoad) {
      this.statusLoad = this.client.request('assistant_status').then(
        (s) => {
          this._status = s;
          this.bump();
        },
        (e) => {
          this.statusLoad = null;
          // A server without the assistant (or too old to know the request) has none.
          if (isClientError(e) && !e.transient) {
            this._status = { configured: false };
            this.bump();
          }
        },
      );
    }
    return this.statusLoad;
  }

  async stop(conversationId: number): Promise<void> {
    await this.client.request('assistant_stop', { conversation_id: conversationId });
  }

  async summarize(conversationId: number): Promise<void> {
    const r = await this.client.request('assistant_summarize', { conversation_id: conversationId });
    // The result may already have arrived (an event can overtake the answer's handling).
    if (this._state.summaries[conversationId]?.task_id === r.task_id) return;
    this.update(addTask(this._state, r.task_id, { kind: 'summary', conversationId }));
  }

  async translate(conversationId: number, seq: number, language: string): Promise<void> {
    const r = await this.client.request('assistant_translate', { conversation_id: conversationId, seq, language });
    if (this._state.translations[`${conversationId}:${seq}`]?.task_id === r.task_id) return;
    this.update(addTask(this._state, r.task_id, { kind: 'translation', conversationId, seq }));
  }

  dismissSummary(conversationId: number): void {
    this.update(dismissSummary(this._state, conversationId));
  }

  dismissTranslation(conversationId: number, seq: number): void {
    this.update(dismissTranslation(this._state, conversationId, seq));
  }

  dispose(): void {
    for (const u of this.unsub) u();
    this.listeners.clear();
  }
}
