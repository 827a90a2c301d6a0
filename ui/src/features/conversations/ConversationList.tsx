import { memo, useMemo, useRef, useState } from 'react';
import { conversationTitle, sortedConversations, type ChatState, type ConversationEntry } from '../../client/store';
import { useNavigation } from '../../app/navigation';
import { useChat, useContacts, usePeople, useServices } from '../../app/services';
import { useI18n } from '../../i18n';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { formatListTime } from '../../ui/format';
import { useFeedback } from '../../ui/feedback';
import { errorText } from '../../ui/errors';
import { CreateGroupDialog } from '../groups/CreateGroupDialog';
import { previewText } from './preview';
import type { PeopleDirectory } from '../people/directory';

let cachedState: ChatState | null = null;
let cachedList: ConversationEntry[] = [];
function selectSorted(s: ChatState): ConversationEntry[] {
  if (s.conversations !== cachedState?.conversations) {
    cachedList = sortedConversations(s);
    cachedState = s;
  }
  return cachedList;
}

function matches(c: ConversationEntry, q: string): boolean {
  const s = c.summary;
  const hay = [s.remark, s.name, s.peer?.username, s.peer?.display_name, s.last_message?.content.type === 'text' ? s.last_message.content.text : '']
    .filter(Boolean)
    .join('\n')
    .toLowerCase();
  return hay.includes(q);
}

export function ChatsSidebar() {
  const { t } = useI18n();
  const list = useChat(selectSorted);
  const synced = useChat((s) => s.synced);
  const contacts = useContacts();
  const nav = useNavigation();
  const [query, setQuery] = useState('');
  const [creating, setCreating] = useState(false);
  const listRef = useRef<HTMLUListElement>(null);
  const q = query.trim().toLowerCase();
  const filtered = useMemo(() => (q ? list.filter((c) => matches(c, q)) : list), [list, q]);
  const people = useMemo(() => {
    if (!q) return [];
    const withChat = new Set(list.filter((c) => c.summary.peer).map((c) => c.summary.peer!.id));
    return contacts.snapshot.friends.filter(
      (f) => !withChat.has(f.user.id) && [f.remark, f.user.display_name, f.user.username].filter(Boolean).join('\n').toLowerCase().includes(q),
    );
  }, [q, list, contacts.snapshot.friends]);
  const activeId = nav.chat && 'conversation' in nav.chat ? nav.chat.conversation : null;
  const { client } = useServices();
  const feedback = useFeedback();

  const joinGroup = async () => {
    const v = await feedback.prompt({
      title: t('group.join'),
      label: t('group.joinLabel'),
      placeholder: t('group.joinPlaceholder'),
      confirmLabel: t('group.joinButton'),
      cancelLabel: t('common.cancel'),
      maxLength: 128,
    });
    if (!v) return;
    try {
      const r = await client.request('group_join', /^\d+$/.test(v) ? { conversation_id: Number(v) } : { invite_code: v });
      if (r.outcome === 'pending') {
        feedback.toast(t('group.joinPending'), 'success');
        return;
      }
      await client.refreshConversation(r.conversation_id);
      nav.openChat({ conversation: r.conversation_id });
    } catch (e) {
      feedback.toast(errorText(t, e), 'error');
    }
  };

  const onListKey = (e: React.KeyboardEvent) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const items = Array.from(listRef.current?.querySelectorAll<HTMLElement>('.conv-item') ?? []);
    const i = items.indexOf(document.activeElement as HTMLElement);
    const next = items[e.key === 'ArrowDown' ? Math.min(items.length - 1, i + 1) : Math.max(0, i - 1)];
    if (next) {
      e.preventDefault();
      next.focus();
    }
  };

  return (
    <div className="sidebar-inner">
      <header className="sidebar-header">
        <h1 className="sidebar-title">{t('nav.chats')}</h1>
        <span className="header-actions">
          <button type="button" className="icon-button" onClick={() => void joinGroup()} aria-label={t('group.join')} title={t('group.join')} data-testid="join-group">
            <Icon name="link" />
          </button>
          <button type="button" className="icon-button" onClick={() => setCreating(true)} aria-label={t('group.create')} title={t('group.create')} data-testid="new-group">
            <Icon name="edit" />
          </button>
        </span>
      </header>
      <div className="search">
        <Icon name="search" size={17} />
        <input
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder={t('chats.search')}
          aria-label={t('chats.search')}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setQuery('');
            if (e.key === 'ArrowDown') {
              e.preventDefault();
              listRef.current?.querySelector<HTMLElement>('.conv-item')?.focus();
            }
          }}
        />
      </div>
      <div className="sidebar-scroll">
        {!synced && list.length === 0 ? (
          <ul className="conv-list skeleton" aria-hidden="true">
            {[0, 1, 2, 3, 4].map((i) => (
              <li key={i} className="conv-skeleton">
                <span className="sk-avatar" />
                <span className="sk-lines">
                  <span />
                  <span />
                </span>
              </li>
            ))}
          </ul>
        ) : filtered.length === 0 && people.length === 0 ? (
          <div className="empty-list">
            <Icon name={q ? 'search' : 'chat'} size={36} />
            <p>{q ? t('chats.noResults') : t('chats.empty')}</p>
            {!q ? (
              <button type="button" className="button secondary" onClick={() => nav.setSection('contacts')}>
                {t('chats.findPeople')}
              </button>
            ) : null}
          </div>
        ) : (
          <ul className="conv-list" ref={listRef} onKeyDown={onListKey} aria-label={t('nav.chats')} data-testid="conversation-list">
            {filtered.map((c) => (
              <ConversationItem key={c.summary.id} entry={c} active={c.summary.id === activeId} onOpen={() => nav.openChat({ conversation: c.summary.id })} />
            ))}
            {people.length ? <li className="list-section">{t('chats.contacts')}</li> : null}
            {people.map((f) => (
              <li key={`u${f.user.id}`}>
                <button type="button" className="conv-item" onClick={() => nav.openChat({ user: f.user.id })}>
                  <Avatar id={f.user.id} name={f.remark || f.user.display_name} />
                  <span className="conv-body">
                    <span className="conv-top">
                      <span className="conv-title">{f.remark || f.user.display_name}</span>
                    </span>
                    <span className="conv-bottom">
                      <span className="conv-preview">@{f.user.username}</span>
                    </span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {creating ? <CreateGroupDialog onClose={() => setCreating(false)} /> : null}
    </div>
  );
}

function typingLine(typing: Record<number, number> | undefined, people: PeopleDirectory, conversationId: number, t: ReturnType<typeof useI18n>['t'], group: boolean): string | null {
  const ids = typing ? Object.keys(typing).map(Number) : [];
  if (!ids.length) return null;
  if (!group) return t('chat.typingDirect');
  if (ids.length === 1) return t('chat.typingOne', { name: people.name(ids[0], conversationId) });
  return t('chat.typingMany', { count: ids.length });
}

const ConversationItem = memo(function ConversationItem({ entry, active, onOpen }: { entry: ConversationEntry; active: boolean; onOpen: () => void }) {
  const { t, locale } = useI18n();
  const people = usePeople();
  const { client } = useServices();
  const typing = useChat((s) => s.typing[entry.summary.id]);
  const s = entry.summary;
  const me = client.me;
  const title = conversationTitle(s);
  const group = s.kind === 'group';
  const typingText = typingLine(typing, people, s.id, t, group);
  const last = s.last_message;
  let prefix = '';
  if (last && last.content.type !== 'system') {
    if (last.sender_id === me && last.content.type !== 'recalled') prefix = t('chats.youPrefix');
    else if (group && last.content.type !== 'recalled') prefix = `${people.name(last.sender_id, s.id)}: `;
  }
  const preview = last ? previewText(last, t, (id) => people.name(id, s.id), me) : t('chats.noMessages');
  const unreadLabel = s.unread ? t('chats.unreadCount', { count: s.unread }) : '';
  return (
    <li>
      <button
        type="button"
        className={`conv-item${active ? ' active' : ''}`}
        aria-current={active ? 'true' : undefined}
        onClick={onOpen}
        data-testid="conversation"
        data-conversation-id={s.id}
        aria-label={[title, unreadLabel, s.mentioned ? t('chats.mentioned') : '', s.muted ? t('chats.muted') : ''].filter(Boolean).join(', ')}
      >
        <Avatar id={group ? -s.id : (s.peer?.id ?? s.id)} name={title} group={group} bot={!group && !!s.peer?.is_bot} />
        <span className="conv-body">
          <span className="conv-top">
            {group ? <Icon name="users" size={14} className="conv-kind" /> : null}
            <span className="conv-title">{title}</span>
            {s.muted ? <Icon name="bellOff" size={14} className="conv-muted" label={t('chats.muted')} /> : null}
            <span className="conv-time">{formatListTime(s.last_activity, locale)}</span>
          </span>
          <span className="conv-bottom">
            {typingText ? (
              <span className="conv-preview typing">{typingText}</span>
            ) : (
              <span className="conv-preview">
                {prefix ? <span className="conv-sender">{prefix}</span> : null}
                {preview}
              </span>
            )}
            {s.mentioned ? (
              <span className="badge badge-mention" aria-hidden="true" data-testid="mention-badge">
                @
              </span>
            ) : null}
            {s.unread ? (
              <span className={`badge${s.muted ? ' muted' : ''}`} aria-hidden="true" data-testid="unread-badge">
                {s.unread > 999 ? '999+' : s.unread}
              </span>
            ) : s.read_only ? (
              <Icon name="lock" size={14} className="conv-muted" />
            ) : null}
          </span>
        </span>
      </button>
    </li>
  );
});
