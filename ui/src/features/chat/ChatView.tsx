import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Message } from '../../client';
import { findMessage, firstUnreadSeq, type ChatState, type PendingMessage } from '../../client/store';
import { useNavigation } from '../../app/navigation';
import { useAssistant, useChat, useGroups, usePeople, useServices } from '../../app/services';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icon';
import { Menu, type MenuItem } from '../../ui/Menu';
import { useFeedback } from '../../ui/feedback';
import { errorText } from '../../ui/errors';
import { Composer } from '../composer/Composer';
import { useAttach } from '../composer/Attachments';
import { GalleryContext, type Gallery, type GalleryItem } from '../media/gallery';
import { Lightbox } from '../media/Lightbox';
import { AssistantDraft, SummaryCard, translationLanguage } from '../assistant/AssistantBits';
import { pendingTask } from '../assistant/assistantState';
import { ChatHeader } from './ChatHeader';
import { MessageRow, type RowContext } from './MessageRow';
import { buildRows, estimateRowHeight, type Row } from './rows';
import { VirtualList, type VirtualListHandle } from './VirtualList';

const EMPTY_PENDING: PendingMessage[] = [];

function selectPending(id: number) {
  let last: PendingMessage[] | null = null;
  let out: PendingMessage[] = EMPTY_PENDING;
  return (s: ChatState) => {
    if (s.pending !== last) {
      last = s.pending;
      const mine = s.pending.filter((p) => p.conversation_id === id);
      out = mine.length ? mine : EMPTY_PENDING;
    }
    return out;
  };
}

export function ChatView({ conversationId, assistantView = false }: { conversationId: number; assistantView?: boolean }) {
  const { t, locale } = useI18n();
  const assistant = useAssistant();
  const botId = assistant.botId;
  const assistantOn = !!assistant.status?.configured;
  const aState = assistant.state;
  const attach = useAttach(useMemo(() => ({ conversation: conversationId }), [conversationId]), `c${conversationId}`);
  const [dragging, setDragging] = useState(false);
  const dragDepth = useRef(0);
  const [viewer, setViewer] = useState<number | null>(null);
  const { client } = useServices();
  const people = usePeople();
  const groups = useGroups();
  const feedback = useFeedback();
  const entry = useChat((s) => s.conversations[conversationId]);
  const pendingSelector = useMemo(() => selectPending(conversationId), [conversationId]);
  const pending = useChat(pendingSelector);
  const typing = useChat((s) => s.typing[conversationId]);
  const limits = useChat((s) => s.limits);
  const synced = useChat((s) => s.synced);
  const me = client.me;
  const list = useRef<VirtualListHandle>(null);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [menu, setMenu] = useState<{ x: number; y: number; m: Message } | null>(null);
  const [flash, setFlash] = useState<number | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [atBottom, setAtBottom] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  // The unread marker stays where it was when the chat opened.
  const [marker, setMarker] = useState<{ seq: number | null; count: number } | undefined>(undefined);
  const visibleMax = useRef(0);
  const [firstVisibleSeq, setFirstVisibleSeq] = useState<number | null>(null);

  const group = entry?.summary.kind === 'group';
  const loaded = entry?.loaded ?? false;

  // Load when the conversation is known (after a reload it appears with the first sync).
  const kind = entry?.summary.kind;
  useEffect(() => {
    if (!kind) return;
    let cancelled = false;
    setLoadError(null);
    client.openConversation(conversationId).catch((e) => {
      if (!cancelled) setLoadError(errorText(t, e));
    });
    if (kind === 'direct') void client.loadPeerRead(conversationId);
    if (kind === 'group') {
      void people.loadMembers(conversationId).catch(() => {});
      void groups.load(conversationId);
    }
    return () => {
      cancelled = true;
    };
    // Once per conversation (t, people and groups are stable).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conversationId, client, kind]);

  // Freeze the unread marker when the newest page has arrived; make sure it is loaded.
  useEffect(() => {
    if (!entry || !loaded || marker !== undefined) return;
    const unread = entry.summary.unread;
    const seq = firstUnreadSeq(entry, me);
    if (unread > 0 && seq == null && !entry.historyComplete) {
      void client.loadOlder(conversationId);
      return;
    }
    setMarker({ seq, count: unread });
  }, [entry, loaded, marker, me, client, conversationId]);

  const messages = entry?.messages;
  const historyComplete = entry?.historyComplete ?? false;
  const rows = useMemo<Row[]>(
    () =>
      messages && marker !== undefined
        ? buildRows({ messages, pending, me, firstUnread: marker.seq, historyComplete, loadingOlder })
        : [],
    [messages, pending, me, marker, historyComplete, loadingOlder],
  );

  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const entryRef = useRef(entry);
  entryRef.current = entry;

  const markVisibleRead = useCallback(() => {
    if (document.visibilityState !== 'visible') return;
    const seq = visibleMax.current;
    if (seq > 0) client.markRead(conversationId, seq);
  }, [client, conversationId]);

  const onVisibleRange = useCallback(
    (first: number, last: number) => {
      const rs = rowsRef.current;
      let max = 0;
      let firstSeq: number | null = null;
      for (let i = first; i <= last && i < rs.length; i++) {
        const r = rs[i];
        if (r.kind === 'message' || r.kind === 'system') {
          if (firstSeq == null) firstSeq = r.message.seq;
          max = Math.max(max, r.message.seq);
        }
      }
      // System events after the last visible row are read too (they are never shown alone).
      const e = entryRef.current;
      if (e && last >= rs.length - 1) max = Math.max(max, e.messages.length ? e.messages[e.messages.length - 1].seq : 0);
      visibleMax.current = max;
      setFirstVisibleSeq(firstSeq);
      markVisibleRead();
    },
    [markVisibleRead],
  );

  useEffect(() => {
    const on = () => markVisibleRead();
    document.addEventListener('visibilitychange', on);
    window.addEventListener('focus', on);
    return () => {
      document.removeEventListener('visibilitychange', on);
      window.removeEventListener('focus', on);
    };
  }, [markVisibleRead]);

  // New messages while at the bottom are read at once.
  const lastSeq = entry?.summary.last_seq ?? 0;
  useEffect(() => {
    if (atBottom && lastSeq > (entry?.summary.read_seq ?? 0)) {
      visibleMax.current = Math.max(visibleMax.current, lastSeq);
      markVisibleRead();
    }
  }, [lastSeq, atBottom, entry?.summary.read_seq, markVisibleRead]);

  const onNearTop = useCallback(() => {
    const e = entryRef.current;
    if (!e || !e.loaded || e.historyComplete || loadingOlder) return;
    setLoadingOlder(true);
    client
      .loadOlder(conversationId)
      .catch(() => {})
      .finally(() => setLoadingOlder(false));
  }, [client, conversationId, loadingOlder]);

  const jumpTo = useCallback(
    async (seq: number) => {
      for (let i = 0; i < 40; i++) {
        const e = client.getState().conversations[conversationId];
        if (!e) return;
        if (findMessage(e, seq)) break;
        if (e.historyComplete || (e.messages.length && e.messages[0].seq <= seq)) {
          feedback.toast(t('chat.quotedNotAvailable'));
          return;
        }
        await client.loadOlder(conversationId);
      }
      requestAnimationFrame(() => {
        if (list.current?.scrollToKey(`m${seq}`, 'center')) {
          setFlash(seq);
          setTimeout(() => setFlash((f) => (f === seq ? null : f)), 1600);
        }
      });
    },
    [client, conversationId, feedback, t],
  );

  const recall = useCallback(
    async (m: Message) => {
      const ok = await feedback.confirm({
        title: t('message.recallTitle'),
        body: t('message.recallBody'),
        confirmLabel: t('message.recall'),
        cancelLabel: t('common.cancel'),
        danger: true,
      });
      if (!ok) return;
      try {
        await client.recall(conversationId, m.seq);
      } catch (e) {
        feedback.toast(errorText(t, e), 'error');
      }
    },
    [client, conversationId, feedback, t],
  );

  const ctx = useMemo<RowContext>(
    () => ({
      conversationId,
      group,
      me,
      othersCount: Math.max(0, (entry?.summary.member_count ?? 1) - 1),
      lookup: (seq) => findMessage(entryRef.current, seq),
      onReply: (m) => setReplyTo(m),
      onJump: (seq) => void jumpTo(seq),
      onMenu: (at, m) => setMenu({ ...at, m }),
      onRetry: (id) => void client.retry(id),
      onDiscard: (id) => client.discard(id),
      botId,
      translation: (seq) => {
        const r = aState.translations[`${conversationId}:${seq}`];
        if (r) return { text: r.text, failed: !!r.failure, pending: false };
        return pendingTask(aState, 'translation', conversationId, seq) ? { text: '', failed: false, pending: true } : null;
      },
      onDismissTranslation: (seq) => assistant.dismissTranslation(conversationId, seq),
    }),
    [conversationId, group, me, entry?.summary.member_count, jumpTo, client, botId, aState, assistant],
  );

  // The conversation's pictures, oldest first, for the lightbox.
  const images = useMemo<GalleryItem[]>(() => {
    const out: GalleryItem[] = [];
    for (const m of messages ?? []) {
      if (m.content.type === 'image') {
        const c = m.content;
        out.push({ mediaId: c.media.id, width: c.width, height: c.height, placeholder: c.placeholder, hasThumbnail: !!c.thumbnail, seq: m.seq });
      }
    }
    return out;
  }, [messages]);
  const imagesRef = useRef(images);
  imagesRef.current = images;
  const gallery = useMemo<Gallery>(
    () => ({
      open: (mediaId, seq) => {
        const list = imagesRef.current;
        let i = list.findIndex((x) => x.seq === seq && x.mediaId === mediaId);
        if (i < 0) i = list.findIndex((x) => x.mediaId === mediaId);
        if (i >= 0) setViewer(i);
      },
    }),
    [],
  );

  const peerReadSeq = entry?.peerReadSeq ?? 0;
  const render = useCallback(
    (row: Row) => <MessageRow row={row} ctx={ctx} peerReadSeq={peerReadSeq} flash={row.kind === 'message' && row.message.seq === flash} />,
    [ctx, peerReadSeq, flash],
  );

  const info = group ? groups.info(conversationId) : undefined;
  const members = group ? people.membersOf(conversationId) : null;

  if (!entry) {
    return (
      <div className="chat-empty">
        {synced ? <p>{t('chat.notFound')}</p> : <span className="spinner" aria-label={t('common.loading')} />}
      </div>
    );
  }

  const s = entry.summary;
  const canAdmin = s.role === 'owner' || s.role === 'admin';
  const menuItems: MenuItem[] = menu
    ? [
        { id: 'reply', label: t('message.reply'), icon: 'reply', onSelect: () => setReplyTo(menu.m), disabled: s.read_only },
        ...(menu.m.content.type === 'text'
          ? [
              {
                id: 'copy',
                label: t('message.copy'),
                icon: 'copy' as const,
                onSelect: () => {
                  const text = menu.m.content.type === 'text' ? menu.m.content.text : '';
                  void navigator.clipboard?.writeText(text).then(
                    () => feedback.toast(t('message.copied'), 'success'),
                    () => {},
                  );
                },
              },
            ]
          : []),
        ...(menu.m.content.type === 'text' && assistantOn
          ? [
              {
                id: 'translate',
                label: t('assistant.translate'),
                icon: 'languages' as const,
                onSelect: () => {
                  const seq = menu.m.seq;
                  assistant.translate(conversationId, seq, translationLanguage(locale)).catch((e) => feedback.toast(errorText(t, e), 'error'));
                },
              },
            ]
          : []),
        ...(menu.m.content.type !== 'recalled' &&
        ((menu.m.sender_id === me && Date.now() - menu.m.created_at < (limits?.recall_window_ms ?? 120_000)) || (group && canAdmin && menu.m.sender_id !== me))
          ? [{ id: 'recall', label: t('message.recall'), icon: 'undo' as const, danger: true, onSelect: () => void recall(menu.m) }]
          : []),
      ]
    : [];

  // "N new messages" above: the marker is above the first visible row.
  const markerAbove = marker?.seq != null && firstVisibleSeq != null && marker.seq < firstVisibleSeq && s.unread > 0;
  const mutedUntil = info?.muted_until && info.muted_until > Date.now() ? info.muted_until : null;
  const mutedAll = info?.mute_all && !canAdmin;
  const typingIds = typing ? Object.keys(typing).map(Number) : [];

  let readOnly: string | null = null;
  if (s.read_only) readOnly = info?.dissolved ? t('chat.readOnlyDissolved') : group ? t('chat.readOnlyGroup') : t('chat.readOnly');
  else if (mutedUntil) readOnly = t('chat.mutedUntil', { time: new Date(mutedUntil).toLocaleString() });
  else if (mutedAll) readOnly = t('chat.mutedAll');

  const summarizing = pendingTask(aState, 'summary', conversationId);
  const summary = aState.summaries[conversationId];
  const draft = aState.drafts[conversationId];
  const canDrop = !readOnly;
  const hasFiles = (e: React.DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');

  return (
    <GalleryContext.Provider value={gallery}>
    <section
      className={`chat${dragging ? ' dragging' : ''}`}
      aria-label={t('chat.region', { name: s.remark || s.name })}
      data-testid="chat-view"
      data-conversation-id={conversationId}
      onDragEnter={(e) => {
        if (!canDrop || !hasFiles(e)) return;
        e.preventDefault();
        dragDepth.current++;
        setDragging(true);
      }}
      onDragOver={(e) => {
        if (!canDrop || !hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={() => {
        dragDepth.current = Math.max(0, dragDepth.current - 1);
        if (!dragDepth.current) setDragging(false);
      }}
      onDrop={(e) => {
        if (!canDrop || !hasFiles(e)) return;
        e.preventDefault();
        dragDepth.current = 0;
        setDragging(false);
        attach(Array.from(e.dataTransfer.files));
      }}
    >
      <ChatHeader
        entry={entry}
        typingIds={typingIds}
        actions={
          assistantOn && !assistantView ? (
            <button
              type="button"
              className={`icon-button${summarizing ? ' active' : ''}`}
              onClick={() => assistant.summarize(conversationId).catch((e) => feedback.toast(errorText(t, e), 'error'))}
              disabled={summarizing}
              aria-label={t('assistant.summarizeUnread')}
              title={t('assistant.summarizeUnread')}
              data-testid="summarize"
            >
              <Icon name="list" />
            </button>
          ) : null
        }
      />
      {summarizing || summary ? (
        <SummaryCard result={summary ?? null} pending={summarizing} onDismiss={() => assistant.dismissSummary(conversationId)} />
      ) : null}
      {group && info?.announcement ? <Announcement conversationId={conversationId} text={info.announcement} /> : null}
      <div className="chat-body">
        {loadError && !loaded ? (
          <div className="chat-empty">
            <p>{loadError}</p>
            <button type="button" className="button secondary" onClick={() => void client.openConversation(conversationId).catch((e) => setLoadError(errorText(t, e)))}>
              {t('common.retry')}
            </button>
          </div>
        ) : !loaded || marker === undefined ? (
          <div className="chat-empty">
            <span className="spinner" aria-label={t('common.loading')} />
          </div>
        ) : (
          <VirtualList
            key={conversationId}
            ref={list}
            items={rows}
            estimate={estimateRowHeight}
            render={render}
            initialKey={marker.seq != null ? 'unread' : null}
            onVisibleRange={onVisibleRange}
            onNearTop={onNearTop}
            onAtBottomChange={setAtBottom}
            className="messages"
            ariaLabel={t('chat.messages')}
          />
        )}
        {markerAbove ? (
          <button type="button" className="jump-pill" onClick={() => list.current?.scrollToKey('unread', 'start')} data-testid="jump-unread">
            <Icon name="arrowUp" size={16} />
            {t('chat.jumpToUnread', { count: s.unread })}
          </button>
        ) : null}
        {!atBottom ? (
          <button type="button" className="fab" onClick={() => list.current?.scrollToBottom()} aria-label={t('chat.scrollToBottom')} title={t('chat.scrollToBottom')}>
            <Icon name="arrowDown" size={22} />
            {s.unread ? <span className="badge fab-badge">{s.unread}</span> : null}
          </button>
        ) : null}
        {draft && !draft.done ? <AssistantDraft draft={draft} group={group} onStop={() => assistant.stop(conversationId).catch((e) => feedback.toast(errorText(t, e), 'error'))} /> : null}
        {typingIds.length ? (
          <div className="typing-indicator" aria-live="polite">
            <span className="dots" aria-hidden="true">
              <i />
              <i />
              <i />
            </span>
            {group
              ? typingIds.length === 1
                ? t('chat.typingOne', { name: people.name(typingIds[0], conversationId) })
                : t('chat.typingMany', { count: typingIds.length })
              : t('chat.typingOne', { name: people.name(typingIds[0]) })}
          </div>
        ) : null}
      </div>
      {readOnly ? (
        <div className="composer-locked" data-testid="composer-locked">
          <Icon name="lock" size={16} />
          {readOnly}
        </div>
      ) : (
        <Composer
          key={conversationId}
          target={{ conversation: conversationId }}
          draftKey={`c${conversationId}`}
          conversationId={conversationId}
          members={members}
          canMentionAll={canAdmin}
          replyTo={replyTo}
          onCancelReply={() => setReplyTo(null)}
          onSent={() => requestAnimationFrame(() => list.current?.scrollToBottom())}
        />
      )}
      {menu ? <Menu items={menuItems} x={menu.x} y={menu.y} label={t('message.actions')} onClose={() => setMenu(null)} /> : null}
      {dragging ? (
        <div className="drop-overlay" aria-hidden="true">
          <div className="drop-card">
            <Icon name="paperclip" size={34} />
            <span>{t('media.dropHere')}</span>
          </div>
        </div>
      ) : null}
      {viewer != null && images[viewer] ? <Lightbox items={images} index={viewer} onIndex={setViewer} onClose={() => setViewer(null)} /> : null}
    </section>
    </GalleryContext.Provider>
  );
}

function Announcement({ conversationId, text }: { conversationId: number; text: string }) {
  const { t } = useI18n();
  const nav = useNavigation();
  const key = `confab.announcement.${conversationId}`;
  const [hidden, setHidden] = useState(() => sessionStorage.getItem(key) === text);
  if (hidden) return null;
  return (
    <div className="announcement" data-testid="announcement">
      <Icon name="megaphone" size={18} className="accent" />
      <button type="button" className="announcement-text" onClick={() => nav.setPanel({ kind: 'info' })}>
        <strong>{t('group.announcement')}</strong>
        <span>{text}</span>
      </button>
      <button
        type="button"
        className="icon-button small"
        aria-label={t('common.dismiss')}
        onClick={() => {
          sessionStorage.setItem(key, text);
          setHidden(true);
        }}
      >
        <Icon name="close" size={16} />
      </button>
    </div>
  );
}
