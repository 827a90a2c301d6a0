// What the UI knows about people: profiles, my remarks for friends, and each group's members
// (roles, nicknames, read positions). Names resolve as nickname → remark → display name.

import type { ConfabClient, Member, UserPublic } from '../../client';
import { Observable } from '../../app/store';

interface MemberList {
  list: Member[];
  byId: Map<number, Member>;
  loadedAt: number;
}

/** System events after which a group's member list is stale. */
const MEMBERSHIP_EVENTS = new Set([
  'group_created',
  'members_added',
  'member_joined',
  'member_left',
  'member_kicked',
  'owner_transferred',
  'role_changed',
  'member_muted',
  'nickname_changed',
]);

export class PeopleDirectory extends Observable {
  private users = new Map<number, UserPublic>();
  private remarks = new Map<number, string>();
  private members = new Map<number, MemberList>();
  private memberLoads = new Map<number, Promise<void>>();
  private wanted = new Set<number>();
  private fetchTimer: ReturnType<typeof setTimeout> | null = null;
  private offs: Array<() => void> = [];

  constructor(private readonly client: ConfabClient) {
    super();
    this.offs.push(
      client.events.on('hello', (h) => this.addUsers([h.user])),
      client.events.on('contact', (ev) => {
        if (ev.kind === 'remark') this.setRemark(ev.user_id, ev.remark);
        else if (ev.kind === 'accepted') this.addUsers([ev.user]);
        else if (ev.kind === 'requested') this.addUsers([ev.request.from, ev.request.to]);
      }),
      client.events.on('event', (ev) => {
        if (ev.event === 'message' && ev.data.content.type === 'system' && MEMBERSHIP_EVENTS.has(ev.data.content.kind)) {
          this.invalidateMembers(ev.data.conversation_id);
        }
      }),
      client.events.on('conversation_changed', (c) => this.invalidateMembers(c.conversation_id)),
      client.subscribe(() => this.learnFromConversations()),
    );
  }

  dispose(): void {
    for (const o of this.offs) o();
    if (this.fetchTimer) clearTimeout(this.fetchTimer);
  }

  addUsers(users: UserPublic[]): void {
    let changed = false;
    for (const u of users) {
      const old = this.users.get(u.id);
      if (!old || old.display_name !== u.display_name || old.username !== u.username || old.status_text !== u.status_text || old.avatar !== u.avatar) {
        this.users.set(u.id, u);
        changed = true;
      }
    }
    if (changed) this.changed();
  }

  setRemark(userId: number, remark: string | null): void {
    const r = remark?.trim() || '';
    if ((this.remarks.get(userId) ?? '') === r) return;
    if (r) this.remarks.set(userId, r);
    else this.remarks.delete(userId);
    this.changed();
  }

  setRemarks(entries: Array<{ userId: number; remark: string | null }>): void {
    this.remarks.clear();
    for (const e of entries) if (e.remark?.trim()) this.remarks.set(e.userId, e.remark.trim());
    this.changed();
  }

  remark(userId: number): string | null {
    return this.remarks.get(userId) ?? null;
  }

  /** A profile, fetched in the background when unknown. */
  user(id: number): UserPublic | undefined {
    const u = this.users.get(id);
    if (!u && id > 0) this.want(id);
    return u;
  }

  /** The name to show for a person, in a conversation when given (nicknames are per group). */
  name(id: number, conversationId?: number): string {
    if (conversationId != null) {
      const nick = this.members.get(conversationId)?.byId.get(id)?.nickname;
      if (nick?.trim()) return nick.trim();
    }
    const remark = this.remarks.get(id);
    if (remark) return remark;
    const u = this.user(id);
    return u ? u.display_name || u.username : `#${id}`;
  }

  membersOf(conversationId: number): Member[] | null {
    return this.members.get(conversationId)?.list ?? null;
  }

  member(conversationId: number, userId: number): Member | undefined {
    return this.members.get(conversationId)?.byId.get(userId);
  }

  /** Loads every member of a conversation (all pages). */
  loadMembers(conversationId: number, force = false): Promise<void> {
    if (!force && this.members.has(conversationId)) return Promise.resolve();
    const running = this.memberLoads.get(conversationId);
    if (running) return running;
    const p = (async () => {
      try {
        const list: Member[] = [];
        let after: number | undefined;
        for (let guard = 0; guard < 100; guard++) {
          const r = await this.client.request('members', { conversation_id: conversationId, ...(after != null ? { after_user: after } : {}), limit: 500 });
          list.push(...r.members);
          if (!r.has_more || r.members.length === 0) break;
          after = r.members[r.members.length - 1].user.id;
        }
        this.members.set(conversationId, { list, byId: new Map(list.map((m) => [m.user.id, m])), loadedAt: Date.now() });
        this.addUsers(list.map((m) => m.user));
        this.changed();
      } finally {
        this.memberLoads.delete(conversationId);
      }
    })();
    this.memberLoads.set(conversationId, p);
    return p;
  }

  invalidateMembers(conversationId: number): void {
    if (!this.members.has(conversationId)) return;
    void this.loadMembers(conversationId, true).catch(() => {});
  }

  private learnFromConversations(): void {
    const peers: UserPublic[] = [];
    for (const c of Object.values(this.client.getState().conversations)) if (c.summary.peer) peers.push(c.summary.peer);
    if (peers.length) this.addUsers(peers);
  }

  private want(id: number): void {
    if (this.wanted.has(id)) return;
    this.wanted.add(id);
    if (this.fetchTimer) return;
    this.fetchTimer = setTimeout(() => {
      this.fetchTimer = null;
      const ids = [...this.wanted].filter((x) => !this.users.has(x));
      for (const uid of ids.slice(0, 50)) {
        this.client
          .request('get_user', { user_id: uid })
          .then((u) => this.addUsers([u]))
          .catch(() => {});
      }
    }, 50);
  }
}
