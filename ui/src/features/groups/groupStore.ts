// Group information (announcement, policy, my role and mute) per group, refreshed when the
// group changes.

import type { ConfabClient, GroupInfo, JoinRequest } from '../../client';
import { Observable } from '../../app/store';

const GROUP_EVENTS = new Set([
  'group_renamed',
  'announcement_updated',
  'join_policy_changed',
  'owner_transferred',
  'role_changed',
  'member_muted',
  'mute_all_changed',
  'nickname_changed',
  'group_dissolved',
  'members_added',
  'member_joined',
  'member_left',
  'member_kicked',
  'avatar_changed',
]);

export class GroupStore extends Observable {
  private infos = new Map<number, GroupInfo>();
  private errors = new Map<number, string>();
  private loads = new Map<number, Promise<void>>();
  private requests = new Map<number, JoinRequest[]>();
  private offs: Array<() => void> = [];

  constructor(private readonly client: ConfabClient) {
    super();
    this.offs.push(
      client.events.on('event', (ev) => {
        if (ev.event === 'message' && ev.data.content.type === 'system' && GROUP_EVENTS.has(ev.data.content.kind)) {
          this.refreshIfKnown(ev.data.conversation_id);
        }
      }),
      client.events.on('conversation_changed', (c) => this.refreshIfKnown(c.conversation_id)),
    );
  }

  dispose(): void {
    for (const o of this.offs) o();
  }

  info(id: number): GroupInfo | undefined {
    if (!this.infos.has(id) && !this.loads.has(id) && !this.errors.has(id)) void this.load(id);
    return this.infos.get(id);
  }

  error(id: number): string | undefined {
    return this.errors.get(id);
  }

  joinRequests(id: number): JoinRequest[] {
    return this.requests.get(id) ?? [];
  }

  set(info: GroupInfo): void {
    this.infos.set(info.conversation_id, info);
    this.errors.delete(info.conversation_id);
    this.changed();
  }

  load(id: number): Promise<void> {
    const running = this.loads.get(id);
    if (running) return running;
    const p = (async () => {
      try {
        this.set(await this.client.request('group_info', { conversation_id: id }));
      } catch (e) {
        this.errors.set(id, (e as { code?: string }).code ?? 'internal');
        this.changed();
      } finally {
        this.loads.delete(id);
      }
    })();
    this.loads.set(id, p);
    return p;
  }

  async loadJoinRequests(id: number): Promise<void> {
    try {
      const r = await this.client.request('group_join_requests', { conversation_id: id });
      this.requests.set(id, r.requests);
    } catch {
      this.requests.set(id, []);
    }
    this.changed();
  }

  private refreshIfKnown(id: number): void {
    if (this.infos.has(id) || this.errors.has(id)) {
      this.errors.delete(id);
      void this.load(id);
    }
  }
}
