import { useEffect, useState } from 'react';
import type { Presence } from '../../client';
import { conversationTitle, type ConversationEntry } from '../../client/store';
import { useNavigation } from '../../app/navigation';
import { usePeople, useServices } from '../../app/services';
import { useI18n } from '../../i18n';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { MenuButton, type MenuItem } from '../../ui/Menu';
import { useFeedback } from '../../ui/feedback';
import { errorText } from '../../ui/errors';
import { formatDateTime } from '../../ui/format';

/** Online state of one user, asked once and kept current by presence events. */
export function usePresence(userId: number | null | undefined): Presence | null {
  const { client } = useServices();
  const [p, setP] = useState<Presence | null>(null);
  useEffect(() => {
    if (!userId) return;
    let alive = true;
    client
      .request('presence', { user_ids: [userId] })
      .then((r) => alive && setP(r.presence.find((x) => x.user_id === userId) ?? null))
      .catch(() => {});
    const off = client.events.on('presence', (ev) => {
      if (ev.user_id === userId) setP(ev);
    });
    const offHello = client.events.on('hello', () => {
      client
        .request('presence', { user_ids: [userId] })
        .then((r) => alive && setP(r.presence.find((x) => x.user_id === userId) ?? null))
        .catch(() => {});
    });
    return () => {
      alive = false;
      off();
      offHello();
    };
  }, [client, userId]);
  return p;
}

export function ChatHeader({ entry, typingIds, actions }: { entry: ConversationEntry; typingIds: number[]; actions?: React.ReactNode }) {
  const { t, tn, locale } = useI18n();
  const { client } = useServices();
  const people = usePeople();
  const nav = useNavigation();
  const feedback = useFeedback();
  const s = entry.summary;
  const group = s.kind === 'group';
  const presence = usePresence(group ? null : s.peer?.id);
  const title = conversationTitle(s);

  let subtitle: string;
  let live = false;
  if (typingIds.length) {
    live = true;
    subtitle = group
      ? typingIds.length === 1
        ? t('chat.typingOne', { name: people.name(typingIds[0], s.id) })
        : t('chat.typingMany', { count: typingIds.length })
      : t('chat.typingDirect');
  } else if (group) {
    subtitle = tn('chat.members', s.member_count);
  } else if (presence?.online) {
    live = true;
    subtitle = t('presence.online');
  } else if (presence?.last_seen) {
    subtitle = t('presence.lastSeen', { time: formatDateTime(presence.last_seen, locale) });
  } else {
    subtitle = s.peer ? `@${s.peer.username}` : '';
  }

  const toggleMute = async () => {
    try {
      await client.setMuted(s.id, !s.muted);
    } catch (e) {
      feedback.toast(errorText(t, e), 'error');
    }
  };

  const leave = async () => {
    const ok = await feedback.confirm({
      title: t('group.leaveTitle'),
      body: t('group.leaveBody', { name: title }),
      confirmLabel: t('group.leave'),
      cancelLabel: t('common.cancel'),
      danger: true,
    });
    if (!ok) return;
    try {
      await client.request('group_leave', { conversation_id: s.id });
      await client.refreshConversation(s.id);
    } catch (e) {
      feedback.toast(errorText(t, e), 'error');
    }
  };

  const items: MenuItem[] = [
    {
      id: 'info',
      label: group ? t('group.info') : t('contacts.profile'),
      icon: 'info',
      onSelect: () => nav.setPanel(group ? { kind: 'info' } : s.peer ? { kind: 'user', userId: s.peer.id } : null),
    },
    { id: 'mute', label: s.muted ? t('chat.unmute') : t('chat.mute'), icon: s.muted ? 'bell' : 'bellOff', onSelect: () => void toggleMute() },
    ...(group && !s.read_only && s.role !== 'owner' ? [{ id: 'leave', label: t('group.leave'), icon: 'door' as const, danger: true, onSelect: () => void leave() }] : []),
  ];

  const panelOpen = nav.panel != null;
  return (
    <header className="chat-header">
      <button
        type="button"
        className="chat-header-main"
        onClick={() => nav.setPanel(panelOpen ? null : group ? { kind: 'info' } : s.peer ? { kind: 'user', userId: s.peer.id } : null)}
        aria-label={group ? t('group.info') : t('contacts.profile')}
        aria-expanded={panelOpen}
      >
        <Avatar id={group ? -s.id : (s.peer?.id ?? s.id)} name={title} size={40} group={group} bot={!group && !!s.peer?.is_bot} online={!group && presence?.online} />
        <span className="chat-header-text">
          <span className="chat-title" data-testid="chat-title">
            {title}
            {s.muted ? <Icon name="bellOff" size={14} className="conv-muted" label={t('chats.muted')} /> : null}
          </span>
          <span className={`chat-subtitle${live ? ' live' : ''}`}>{subtitle}</span>
        </span>
      </button>
      <div className="chat-header-actions">
        {actions}
        <button
          type="button"
          className={`icon-button${panelOpen ? ' active' : ''}`}
          onClick={() => nav.setPanel(panelOpen ? null : group ? { kind: 'info' } : s.peer ? { kind: 'user', userId: s.peer.id } : null)}
          aria-label={group ? t('group.info') : t('contacts.profile')}
          title={group ? t('group.info') : t('contacts.profile')}
          aria-pressed={panelOpen}
          data-testid="toggle-info"
        >
          <Icon name="info" />
        </button>
        <MenuButton items={items} label={t('chat.moreActions')} testId="chat-menu">
          <Icon name="more" />
        </MenuButton>
      </div>
    </header>
  );
}
