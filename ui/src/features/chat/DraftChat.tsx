import { useEffect, useMemo } from 'react';
import { useNavigation } from '../../app/navigation';
import { useChat, usePeople } from '../../app/services';
import { useI18n } from '../../i18n';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { Composer } from '../composer/Composer';
import { errorCodeText } from '../../ui/errors';
import { ChatView } from './ChatView';

/** The chat with a person before its first message: sending creates the direct chat. */
export function DirectChatRoute({ userId }: { userId: number }) {
  const nav = useNavigation();
  const existing = useChat((s) => {
    for (const c of Object.values(s.conversations)) if (c.summary.kind === 'direct' && c.summary.peer?.id === userId) return c.summary.id;
    return null;
  });
  useEffect(() => {
    if (existing != null) nav.openChat({ conversation: existing });
  }, [existing, nav]);
  if (existing != null) return <ChatView key={existing} conversationId={existing} />;
  return <DraftChat userId={userId} />;
}

function DraftChat({ userId }: { userId: number }) {
  const { t } = useI18n();
  const people = usePeople();
  const user = people.user(userId);
  const name = people.name(userId);
  const allPending = useChat((s) => s.pending);
  const failed = useMemo(() => allPending.find((p) => 'user' in p.to && p.to.user === userId && p.status === 'failed'), [allPending, userId]);
  return (
    <section className="chat" aria-label={t('chat.region', { name })} data-testid="chat-view">
      <header className="chat-header">
        <div className="chat-header-main static">
          <Avatar id={userId} name={name} size={40} />
          <span className="chat-header-text">
            <span className="chat-title">{name}</span>
            <span className="chat-subtitle">{user ? `@${user.username}` : ''}</span>
          </span>
        </div>
      </header>
      <div className="chat-body">
        <div className="chat-empty">
          <div className="empty-illustration">
            <Icon name="chat" size={40} />
          </div>
          <p>{t('chat.draftHint', { name })}</p>
          {failed ? (
            <p className="notice notice-error" role="alert">
              {t('chat.draftFailed', { reason: errorCodeText(t, failed.error) })}
            </p>
          ) : null}
        </div>
      </div>
      <Composer
        target={{ user: userId }}
        draftKey={`u${userId}`}
        conversationId={null}
        members={null}
        canMentionAll={false}
        replyTo={null}
        onCancelReply={() => {}}
        onSent={() => {}}
      />
    </section>
  );
}
