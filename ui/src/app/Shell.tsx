import { useEffect } from 'react';
import { useI18n } from '../i18n';
import { Icon } from '../ui/Icon';
import { AssistantPane, AssistantSidebar } from '../features/assistant/AssistantPane';
import { ChatView } from '../features/chat/ChatView';
import { DirectChatRoute } from '../features/chat/DraftChat';
import { ContactProfile, ContactsMain, ContactsSidebar } from '../features/contacts/ContactsPane';
import { ChatsSidebar } from '../features/conversations/ConversationList';
import { GroupInfoPanel } from '../features/groups/GroupInfoPanel';
import { SettingsMain, SettingsSidebar } from '../features/settings/SettingsPane';
import { useNotifications } from '../features/settings/useNotifications';
import { useDesktop } from '../desktop/useDesktop';
import { ConnectionBanner } from './ConnectionBanner';
import { NavRail } from './NavRail';
import { useNavigation } from './navigation';
import { useChat } from './services';

export function Shell() {
  const { t } = useI18n();
  const nav = useNavigation();
  useNotifications();
  useDesktop();
  const chatId = nav.chat && 'conversation' in nav.chat ? nav.chat.conversation : null;
  const chatKind = useChat((s) => (chatId != null ? s.conversations[chatId]?.summary.kind : undefined));

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        nav.setSection('chats');
        requestAnimationFrame(() => document.querySelector<HTMLInputElement>('.sidebar .search input')?.focus());
      } else if (e.key === 'Escape' && nav.panel && !document.querySelector('dialog[open], .menu')) {
        nav.setPanel(null);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [nav]);

  let sidebar;
  let main;
  switch (nav.section) {
    case 'contacts':
      sidebar = <ContactsSidebar />;
      main = <ContactsMain />;
      break;
    case 'assistant':
      sidebar = <AssistantSidebar />;
      main = <AssistantPane />;
      break;
    case 'settings':
      sidebar = <SettingsSidebar />;
      main = <SettingsMain />;
      break;
    default:
      sidebar = <ChatsSidebar />;
      main =
        nav.chat == null ? (
          <div className="chat-empty welcome">
            <div className="empty-illustration">
              <Icon name="chat" size={44} />
            </div>
            <h2>{t('chat.welcomeTitle')}</h2>
            <p>{t('chat.welcomeBody')}</p>
          </div>
        ) : 'conversation' in nav.chat ? (
          <ChatView key={nav.chat.conversation} conversationId={nav.chat.conversation} />
        ) : (
          <DirectChatRoute key={`u${nav.chat.user}`} userId={nav.chat.user} />
        );
  }

  const panel =
    nav.section === 'chats' && nav.panel ? (
      nav.panel.kind === 'info' && chatId != null && chatKind === 'group' ? (
        <GroupInfoPanel conversationId={chatId} onClose={() => nav.setPanel(null)} />
      ) : nav.panel.kind === 'user' ? (
        <div className="panel-content">
          <div className="panel-scroll">
            <ContactProfile key={nav.panel.userId} userId={nav.panel.userId} onClose={() => nav.setPanel(null)} />
          </div>
        </div>
      ) : null
    ) : null;

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        {t('nav.skipToContent')}
      </a>
      <NavRail />
      <div className="workspace">
        <ConnectionBanner />
        <div className="columns">
          <aside className="sidebar" aria-label={t('nav.sidebar')}>
            {sidebar}
          </aside>
          <main className="main" id="main" tabIndex={-1}>
            {main}
          </main>
          {panel ? (
            <aside className="panel" aria-label={t('nav.details')}>
              {panel}
            </aside>
          ) : null}
        </div>
      </div>
    </div>
  );
}
