import { useI18n, type MessageKey } from '../i18n';
import { Avatar } from '../ui/Avatar';
import { Icon, type IconName } from '../ui/Icon';
import { totalUnread } from '../client/store';
import { useNavigation, type Section } from './navigation';
import { useChat, useContacts } from './services';
import { useSession } from '../features/auth/SessionContext';

const ITEMS: Array<{ id: Section; icon: IconName; label: MessageKey }> = [
  { id: 'chats', icon: 'chat', label: 'nav.chats' },
  { id: 'contacts', icon: 'contacts', label: 'nav.contacts' },
  { id: 'assistant', icon: 'sparkles', label: 'nav.assistant' },
  { id: 'settings', icon: 'settings', label: 'nav.settings' },
];

export function NavRail() {
  const { t } = useI18n();
  const nav = useNavigation();
  const unread = useChat(totalUnread);
  const contacts = useContacts();
  const { session } = useSession();
  const requests = contacts.snapshot.incoming.length;
  const badge = (id: Section) => (id === 'chats' ? unread : id === 'contacts' ? requests : 0);
  return (
    <nav className="rail" aria-label={t('nav.main')}>
      <div className="rail-logo" aria-hidden="true">
        <Icon name="chat" size={22} />
      </div>
      <ul className="rail-items">
        {ITEMS.map((item) => {
          const n = badge(item.id);
          return (
            <li key={item.id}>
              <button
                type="button"
                className={`rail-item${nav.section === item.id ? ' active' : ''}`}
                aria-current={nav.section === item.id ? 'page' : undefined}
                aria-label={n ? `${t(item.label)} (${n})` : t(item.label)}
                title={t(item.label)}
                onClick={() => nav.setSection(item.id)}
                data-testid={`nav-${item.id}`}
              >
                <Icon name={item.icon} size={22} />
                <span className="rail-label">{t(item.label)}</span>
                {n ? <span className="badge rail-badge">{n > 99 ? '99+' : n}</span> : null}
              </button>
            </li>
          );
        })}
      </ul>
      <div className="rail-bottom">
        {session ? (
          <button
            type="button"
            className="rail-me"
            title={session.user.display_name}
            aria-label={t('nav.profile', { name: session.user.display_name })}
            onClick={() => {
              nav.setSection('settings');
              nav.setSettingsPage('profile');
            }}
          >
            <Avatar id={session.user.id} name={session.user.display_name || session.user.username} size={36} />
          </button>
        ) : null}
      </div>
    </nav>
  );
}
