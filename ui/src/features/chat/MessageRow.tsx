import { memo, useEffect, useState } from 'react';
import type { Message } from '../../client';
import { useI18n } from '../../i18n';
import { Avatar, avatarColor } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { Modal } from '../../ui/Modal';
import { formatDateTime, formatDay, formatTime } from '../../ui/format';
import { usePeople, useReadBy } from '../../app/services';
import { previewText } from '../conversations/preview';
import { ContentRenderer } from './content/ContentRenderer';
import type { Row } from './rows';
import { systemText } from './systemText';

export interface RowContext {
  conversationId: number;
  group: boolean;
  me: number;
  /** Members other than me (for "read by everyone"). */
  othersCount: number;
  lookup: (seq: number) => Message | undefined;
  onReply: (m: Message) => void;
  onJump: (seq: number) => void;
  onMenu: (e: { x: number; y: number }, m: Message) => void;
  onRetry: (clientMsgId: string) => void;
  onDiscard: (clientMsgId: string) => void;
  /** Ids of bots (their messages read as the assistant's). */
  botId: number | null;
  /** My translation of a message, if asked for. */
  translation: (seq: number) => { text: string; failed: boolean; pending: boolean } | null;
  onDismissTranslation: (seq: number) => void;
}

export const MessageRow = memo(function MessageRow({
  row,
  ctx,
  peerReadSeq,
  flash,
}: {
  row: Row;
  ctx: RowContext;
  peerReadSeq: number;
  flash: boolean;
}) {
  const { t, locale } = useI18n();
  const people = usePeople();
  switch (row.kind) {
    case 'day':
      return (
        <div className="day-sep" role="separator">
          <span>{formatDay(row.at, locale, { today: t('chat.today'), yesterday: t('chat.yesterday') })}</span>
        </div>
      );
    case 'unread':
      return (
        <div className="unread-sep" role="separator" data-testid="unread-marker">
          <span>{t('chat.unreadMarker')}</span>
        </div>
      );
    case 'start':
      return <div className="chat-start">{t('chat.beginning')}</div>;
    case 'loading':
      return (
        <div className="chat-start">
          <span className="spinner" aria-label={t('common.loading')} />
        </div>
      );
    case 'system':
      return (
        <div className="system-line" data-seq={row.message.seq}>
          <span>{row.message.content.type === 'system' ? systemText(row.message.content, (id) => people.name(id, ctx.conversationId), t, ctx.me) : ''}</span>
        </div>
      );
    case 'message': {
      const m = row.message;
      const own = row.own;
      const name = people.name(m.sender_id, ctx.conversationId);
      const showSender = ctx.group && !own && row.first;
      const quoted = m.reply_to != null ? ctx.lookup(m.reply_to) : undefined;
      const mentionNames = m.mentions.map((id) => people.name(id, ctx.conversationId)).concat(m.mention_all ? [t('composer.mentionAllName')] : []);
      const recalled = m.content.type === 'recalled';
      const bot = m.content.type === 'assistant' || (ctx.botId != null && m.sender_id === ctx.botId);
      const media = m.content.type === 'image' || m.content.type === 'video';
      const tr = m.content.type === 'text' ? ctx.translation(m.seq) : null;
      return (
        <div
          className={`msg-row ${own ? 'own' : 'peer'}${row.first ? ' first' : ''}${row.last ? ' last' : ''}${flash ? ' flash' : ''}${ctx.group ? ' in-group' : ''}`}
          data-seq={m.seq}
          data-testid="message"
          onContextMenu={(e) => {
            e.preventDefault();
            ctx.onMenu({ x: e.clientX, y: e.clientY }, m);
          }}
        >
          {ctx.group && !own ? (
            <div className="msg-avatar">{row.last ? <Avatar id={m.sender_id} name={name} size={34} bot={bot} /> : null}</div>
          ) : null}
          <div className={`bubble${recalled ? ' recalled-bubble' : ''}${bot ? ' bot-bubble' : ''}${media ? ' media-bubble' : ''}`}>
            {showSender || (bot && !own && row.first) ? (
              <div className="sender" style={{ color: bot ? undefined : avatarColor(m.sender_id) }}>
                {bot ? (
                  <span className="bot-name">
                    <Icon name="sparkles" size={13} />
                    {name}
                    <span className="bot-badge">{t('assistant.botBadge')}</span>
                  </span>
                ) : (
                  name
                )}
              </div>
            ) : null}
            {m.reply_to != null ? (
              <button type="button" className="quote" onClick={() => ctx.onJump(m.reply_to!)} aria-label={t('chat.jumpToQuoted')} data-testid="quote">
                <span className="quote-name">{quoted ? people.name(quoted.sender_id, ctx.conversationId) : t('chat.quotedMessage')}</span>
                <span className="quote-text">{quoted ? previewText(quoted, t, (id) => people.name(id, ctx.conversationId), ctx.me) : t('chat.quotedNotLoaded')}</span>
              </button>
            ) : null}
            <div className="bubble-body">
              <ContentRenderer content={m.content} own={own} mentionNames={mentionNames} seq={m.seq} />
              <span className="meta" title={formatDateTime(m.created_at, locale)}>
                <time dateTime={new Date(m.created_at).toISOString()}>{formatTime(m.created_at, locale)}</time>
                {own && !recalled ? (
                  ctx.group ? (
                    <GroupReadState conversationId={ctx.conversationId} seq={m.seq} othersCount={ctx.othersCount} />
                  ) : m.seq <= peerReadSeq ? (
                    <span className="status read" data-testid="status-read" title={t('status.read')}>
                      <Icon name="checks" size={16} label={t('status.read')} />
                    </span>
                  ) : (
                    <span className="status" data-testid="status-sent" title={t('status.sent')}>
                      <Icon name="check" size={15} label={t('status.sent')} />
                    </span>
                  )
                ) : null}
              </span>
            </div>
            {tr ? (
              <div className={`translation${tr.failed ? ' failed' : ''}`} data-testid="translation" aria-live="polite">
                <Icon name="languages" size={14} />
                <span className="translation-text">{tr.pending ? t('assistant.translating') : tr.text}</span>
                {!tr.pending ? (
                  <button type="button" className="icon-button tiny" onClick={() => ctx.onDismissTranslation(m.seq)} aria-label={t('assistant.hideTranslation')} title={t('assistant.hideTranslation')}>
                    <Icon name="close" size={13} />
                  </button>
                ) : null}
              </div>
            ) : null}
          </div>
          {!recalled ? (
            <div className="msg-actions">
              <button type="button" className="icon-button small" onClick={() => ctx.onReply(m)} aria-label={t('message.reply')} title={t('message.reply')}>
                <Icon name="reply" size={17} />
              </button>
              <button
                type="button"
                className="icon-button small"
                aria-label={t('message.more')}
                title={t('message.more')}
                aria-haspopup="menu"
                data-testid="message-more"
                onClick={(e) => {
                  const r = e.currentTarget.getBoundingClientRect();
                  ctx.onMenu({ x: r.left, y: r.bottom + 4 }, m);
                }}
              >
                <Icon name="more" size={17} />
              </button>
            </div>
          ) : null}
        </div>
      );
    }
    case 'pending': {
      const p = row.pending;
      const failed = p.status === 'failed';
      const quoted = p.reply_to != null ? ctx.lookup(p.reply_to) : undefined;
      return (
        <div className={`msg-row own pending${row.first ? ' first' : ''}${row.last ? ' last' : ''}${failed ? ' failed' : ''}`} data-testid="pending-message">
          <div className="bubble">
            {p.reply_to != null ? (
              <button type="button" className="quote" onClick={() => ctx.onJump(p.reply_to!)}>
                <span className="quote-name">{quoted ? people.name(quoted.sender_id, ctx.conversationId) : t('chat.quotedMessage')}</span>
                <span className="quote-text">{quoted ? previewText(quoted, t, (id) => people.name(id, ctx.conversationId), ctx.me) : ''}</span>
              </button>
            ) : null}
            <div className="bubble-body">
              <ContentRenderer content={p.content} own />
              <span className="meta">
                <time>{formatTime(p.created_at, locale)}</time>
                {failed ? (
                  <span className="status failed">
                    <Icon name="alert" size={15} label={t('status.failed')} />
                  </span>
                ) : (
                  <span className="status" data-testid="status-sending">
                    <Icon name="clock" size={14} label={t('status.sending')} />
                  </span>
                )}
              </span>
            </div>
          </div>
          {failed ? (
            <div className="failed-actions" role="group" aria-label={t('status.failed')}>
              <span>{t('status.notSent')}</span>
              <button type="button" className="link-button" onClick={() => ctx.onRetry(p.client_msg_id)} data-testid="retry">
                {t('status.retry')}
              </button>
              <button type="button" className="link-button danger" onClick={() => ctx.onDiscard(p.client_msg_id)}>
                {t('common.delete')}
              </button>
            </div>
          ) : null}
        </div>
      );
    }
  }
});

/** "Read by N" under an own message in a group; a click lists who. */
function GroupReadState({ conversationId, seq, othersCount }: { conversationId: number; seq: number; othersCount: number }) {
  const { t } = useI18n();
  const readBy = useReadBy();
  const people = usePeople();
  const [open, setOpen] = useState(false);
  const [, setTick] = useState(0);
  const r = readBy.get(conversationId, seq);
  const count = r?.count ?? 0;
  const everyone = othersCount > 0 && count >= othersCount;
  // Group members' reads are not pushed to the sender: look again now and then.
  useEffect(() => {
    if (everyone) return;
    const timer = setInterval(() => setTick((n) => n + 1), 6000);
    return () => clearInterval(timer);
  }, [everyone]);
  if (count === 0) {
    return (
      <span className="status" data-testid="status-sent" title={t('status.sent')}>
        <Icon name="check" size={15} label={t('status.sent')} />
      </span>
    );
  }
  const all = everyone;
  return (
    <>
      <button
        type="button"
        className="status read read-by"
        onClick={() => setOpen(true)}
        title={all ? t('status.readByAll') : t('status.readBy', { count })}
        data-testid="status-read-by"
      >
        <Icon name="checks" size={16} />
        <span>{all ? t('status.readByAllShort') : count}</span>
      </button>
      {open ? (
        <Modal title={t('status.readBy', { count })} onClose={() => setOpen(false)} closeLabel={t('common.close')} width={360}>
          <ul className="people-list">
            {(r?.user_ids ?? []).map((id) => (
              <li key={id} className="person">
                <Avatar id={id} name={people.name(id, conversationId)} size={32} />
                <span>{people.name(id, conversationId)}</span>
              </li>
            ))}
          </ul>
        </Modal>
      ) : null}
    </>
  );
}
