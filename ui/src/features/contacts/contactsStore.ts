// Friends, friend requests and blocked people, refreshed whenever a contact event arrives.

import type { ConfabClient, Friend, FriendRequest, UserPublic } from '../../client';
import { Observable } from '../../app/store';
import type { PeopleDirectory } from '../people/directory';

export interface ContactsSnapshot {
  friends: Friend[];
  incoming: FriendRequest[];
  outgoing: FriendRequest[];
  blocked: UserPublic[];
  loaded: boolean;
  error: string | null;
}

export class ContactsStore extends Observable {
  snapshot: ContactsSnapshot = { friends: [], incoming: [], outgoing: [], blocked: [], loaded: false, error: null };
  private refreshing: Promise<void> | null = null;
  private again = false;
  private offs: Array<() => void> = [];

  constructor(
    private readonly client: ConfabClient,
    private readonly people: PeopleDirectory,
  ) {
    super();
    this.offs.push(
      client.events.on('resumed', () => void this.refresh()),
      client.events.on('contact', () => void this.refresh()),
    );
    if (client.getState().synced) void this.refresh();
  }

  dispose(): void {
    for (const o of this.offs) o();
  }

  private set(patch: Partial<ContactsSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    this.changed();
  }

  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        const [friends, requests, blocked] = await Promise.all([
          this.client.request('friends'),
          this.client.request('friend_requests'),
          this.client.request('blocked'),
        ]);
        const list = [...friends.friends].sort((a, b) => this.label(a).localeCompare(this.label(b)));
        this.people.addUsers([
          ...list.map((f) => f.user),
          ...requests.incoming.map((r) => r.from),
          ...requests.outgoing.map((r) => r.to),
          ...blocked.users,
        ]);
        this.people.setRemarks(list.map((f) => ({ userId: f.user.id, remark: f.remark })));
        this.set({ friends: list, incoming: requests.incoming, outgoing: requests.outgoing, blocked: blocked.users, loaded: true, error: null });
      } catch (e) {
        this.set({ loaded: true, error: (e as { code?: string }).code ?? 'internal' });
      } finally {
        this.refreshing = null;
        if (this.again) {
          this.again = false;
          void this.refresh();
        }
      }
    })();
    return this.refreshing;
  }

  private label(f: Friend): string {
    return (f.remark || f.user.display_name || f.user.username).toLowerCase();
  }

  isFriend(userId: number): boolean {
    return this.snapshot.friends.some((f) => f.user.id === userId);
  }

  isBlocked(userId: number): boolean {
    return this.snapshot.blocked.some((u) => u.id === userId);
  }

  async sendRequest(userId: number, note?: string): Promise<void> {
    await this.client.request('friend_request', { user_id: userId, ...(note ? { note } : {}) });
    await this.refresh();
  }

  async accept(userId: number): Promise<void> {
    await this.client.request('friend_accept', { user_id: userId });
    await this.refresh();
  }

  async decline(userId: number): Promise<void> {
    await this.client.request('friend_decline', { user_id: userId });
    await this.refresh();
  }

  async remove(userId: number): Promise<void> {
    await this.client.request('friend_delete', { user_id: userId });
    await this.refresh();
  }

  async setRemark(userId: number, remark: string): Promise<void> {
    await this.client.request('friend_remark', { user_id: userId, remark });
    this.people.setRemark(userId, remark);
    await this.refresh();
    // Direct chats show the remark as their name.
    const conv = this.client.directWith(userId);
    if (conv != null) void this.client.refreshConversation(conv);
  }

  async block(userId: number): Promise<void> {
    await this.client.request('block', { user_id: userId });
    await this.refresh();
  }

  async unblock(userId: number): Promise<void> {
    await this.client.request('unblock', { user_id: userId });
    await this.refresh();
  }
}
