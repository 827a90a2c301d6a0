// "Read by N" for own messages in groups, asked with `read_by` and cached briefly.

import type { ConfabClient, ReadByResponse } from '../../client';
import { Observable } from '../../app/store';

const TTL_MS = 5_000;

export class ReadByCache extends Observable {
  private entries = new Map<string, { value: ReadByResponse | null; at: number; loading: boolean }>();
  private offs: Array<() => void> = [];

  constructor(private readonly client: ConfabClient) {
    super();
    // Someone writing in a group has read it: refresh that group's counts soon.
    this.offs.push(
      client.events.on('incoming', (m) => this.expire(m.conversation_id)),
    );
  }

  dispose(): void {
    for (const o of this.offs) o();
  }

  private key(conversationId: number, seq: number): string {
    return `${conversationId}:${seq}`;
  }

  get(conversationId: number, seq: number): ReadByResponse | null {
    const k = this.key(conversationId, seq);
    const e = this.entries.get(k);
    if (!e || (!e.loading && Date.now() - e.at > TTL_MS)) this.load(conversationId, seq);
    return e?.value ?? null;
  }

  private load(conversationId: number, seq: number): void {
    const k = this.key(conversationId, seq);
    const prev = this.entries.get(k);
    this.entries.set(k, { value: prev?.value ?? null, at: prev?.at ?? 0, loading: true });
    this.client
      .request('read_by', { conversation_id: conversationId, seq })
      .then((value) => {
        this.entries.set(k, { value, at: Date.now(), loading: false });
        this.changed();
      })
      .catch(() => {
        this.entries.set(k, { value: prev?.value ?? null, at: Date.now(), loading: false });
      });
  }

  private expire(conversationId: number): void {
    const prefix = `${conversationId}:`;
    let any = false;
    for (const [k, e] of this.entries) {
      if (k.startsWith(prefix)) {
        e.at = 0;
        any = true;
      }
    }
    if (any) this.changed();
  }
}
