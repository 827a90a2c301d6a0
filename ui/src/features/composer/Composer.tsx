import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Member, Message, Target } from '../../client';
import { useChat, usePeople, useServices } from '../../app/services';
import { canRecord, UploadTray, useAttach, VoiceRecorder } from './Attachments';
import { useI18n } from '../../i18n';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { previewText } from '../conversations/preview';
import { EmojiPicker } from './EmojiPicker';
import { applyMention, collectMentions, matchesMention, mentionQuery, type MentionQuery } from './mentions';

/** Drafts survive switching chats (for this page). */
const drafts = new Map<string, string>();

interface Suggestion {
  id: number; // 0 = everyone
  name: string;
  sub: string;
}

export function Composer({
  target,
  draftKey,
  conversationId,
  members,
  canMentionAll,
  replyTo,
  onCancelReply,
  onSent,
}: {
  target: Target;
  draftKey: string;
  conversationId: number | null;
  /** Group members for @mentions (null in direct chats). */
  members: Member[] | null;
  canMentionAll: boolean;
  replyTo: Message | null;
  onCancelReply: () => void;
  onSent: (clientMsgId: string) => void;
}) {
  const { t } = useI18n();
  const { client, media } = useServices();
  const people = usePeople();
  const attach = useAttach(target, draftKey, replyTo?.seq ?? null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [recording, setRecording] = useState(false);
  const maxChars = useChat((s) => s.limits?.max_text_chars ?? 4000);
  const [text, setText] = useState(() => drafts.get(draftKey) ?? '');
  const [emojiOpen, setEmojiOpen] = useState(false);
  const [query, setQuery] = useState<MentionQuery | null>(null);
  const [active, setActive] = useState(0);
  const chosen = useRef<Array<{ id: number; name: string }>>([]);
  const area = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    drafts.set(draftKey, text);
  }, [draftKey, text]);

  // Grow with the text up to a limit.
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [text]);

  useEffect(() => {
    if (replyTo) area.current?.focus();
  }, [replyTo]);

  useEffect(() => {
    area.current?.focus();
  }, [draftKey]);

  const me = client.me;
  const suggestions = useMemo<Suggestion[]>(() => {
    if (!query || !members) return [];
    const out: Suggestion[] = [];
    if (canMentionAll && matchesMention(query.query, 'all', t('composer.mentionAllName'))) {
      out.push({ id: 0, name: t('composer.mentionAllName'), sub: t('composer.mentionAllHint') });
    }
    for (const m of members) {
      if (m.user.id === me) continue;
      const name = people.name(m.user.id, conversationId ?? undefined);
      if (query.query === '' || matchesMention(query.query, name, m.nickname, m.user.display_name, m.user.username)) {
        out.push({ id: m.user.id, name, sub: `@${m.user.username}` });
      }
      if (out.length >= 8) break;
    }
    return out;
  }, [query, members, canMentionAll, me, people, conversationId, t]);

  const updateQuery = (value: string, caret: number) => {
    const q = members ? mentionQuery(value, caret) : null;
    setQuery(q);
    setActive(0);
  };

  const pick = (s: Suggestion) => {
    const el = area.current;
    if (!el || !query) return;
    const r = applyMention(text, query, el.selectionStart, s.name);
    chosen.current.push({ id: s.id, name: s.name });
    setText(r.text);
    setQuery(null);
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(r.caret, r.caret);
    });
  };

  const insert = useCallback(
    (s: string) => {
      const el = area.current;
      const start = el?.selectionStart ?? text.length;
      const end = el?.selectionEnd ?? text.length;
      const next = text.slice(0, start) + s + text.slice(end);
      setText(next);
      requestAnimationFrame(() => {
        el?.focus();
        el?.setSelectionRange(start + s.length, start + s.length);
      });
    },
    [text],
  );

  const trimmed = text.trim();
  const tooLong = Array.from(text).length > maxChars;

  const send = () => {
    if (!trimmed || tooLong) return;
    const mentions = collectMentions(text, chosen.current);
    const mentionAll = chosen.current.some((c) => c.id === 0 && text.includes(`@${c.name}`));
    const id = client.sendText(target, trimmed, { replyTo: replyTo?.seq ?? null, mentions, mentionAll });
    chosen.current = [];
    setText('');
    setQuery(null);
    onCancelReply();
    onSent(id);
  };

  const onKeyDown = (e: React.KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.nativeEvent.isComposing || e.keyCode === 229) return; // IME composition (e.g. pinyin).
    if (suggestions.length) {
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        setActive((a) => (a + 1) % suggestions.length);
        return;
      }
      if (e.key === 'ArrowUp') {
        e.preventDefault();
        setActive((a) => (a - 1 + suggestions.length) % suggestions.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pick(suggestions[Math.min(active, suggestions.length - 1)]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setQuery(null);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      send();
    } else if (e.key === 'Escape' && replyTo) {
      e.preventDefault();
      onCancelReply();
    }
  };

  const onPaste = (e: React.ClipboardEvent<HTMLTextAreaElement>) => {
    const files = Array.from(e.clipboardData?.files ?? []);
    if (!files.length) return;
    e.preventDefault();
    attach(files);
    onCancelReply();
  };

  const replyName = replyTo ? people.name(replyTo.sender_id, conversationId ?? undefined) : '';
  const listId = 'mention-list';

  return (
    <div className="composer-wrap">
      {replyTo ? (
        <div className="reply-bar" data-testid="reply-bar">
          <Icon name="reply" size={18} className="accent" />
          <div className="reply-bar-body">
            <span className="reply-bar-name">{t('composer.replyingTo', { name: replyName })}</span>
            <span className="reply-bar-text">{previewText(replyTo, t, (id) => people.name(id, conversationId ?? undefined), me)}</span>
          </div>
          <button type="button" className="icon-button small" onClick={onCancelReply} aria-label={t('composer.cancelReply')}>
            <Icon name="close" size={18} />
          </button>
        </div>
      ) : null}
      {suggestions.length ? (
        <ul className="mention-popup" role="listbox" id={listId} aria-label={t('composer.mentionSuggestions')} data-testid="mention-popup">
          {suggestions.map((s, i) => (
            <li
              key={s.id}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(s);
              }}
              onMouseEnter={() => setActive(i)}
            >
              {s.id ? <Avatar id={s.id} name={s.name} size={28} /> : <span className="mention-all-icon"><Icon name="at" size={16} /></span>}
              <span className="mention-name">{s.name}</span>
              <span className="mention-sub">{s.sub}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <UploadTray conversationKey={draftKey} />
      {recording ? (
        <VoiceRecorder
          onClose={() => setRecording(false)}
          onSend={(blob) => {
            setRecording(false);
            media.add(blob, t('media.voiceFileName'), target, draftKey, { kind: 'voice', replyTo: replyTo?.seq ?? null });
            onCancelReply();
          }}
        />
      ) : (
      <div className="composer">
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = '';
            if (files.length) {
              attach(files);
              onCancelReply();
            }
          }}
        />
        <button
          type="button"
          className="icon-button"
          aria-label={t('media.attach')}
          title={t('media.attach')}
          data-testid="attach"
          onClick={() => fileInput.current?.click()}
        >
          <Icon name="paperclip" size={21} />
        </button>
        <div className="emoji-anchor">
          <button
            type="button"
            className={`icon-button${emojiOpen ? ' active' : ''}`}
            aria-label={t('composer.emoji')}
            title={t('composer.emoji')}
            aria-expanded={emojiOpen}
            data-emoji-toggle
            onClick={() => setEmojiOpen((o) => !o)}
          >
            <Icon name="smile" size={22} />
          </button>
          {emojiOpen ? (
            <EmojiPicker
              onPick={(e) => {
                insert(e);
              }}
              onClose={() => {
                setEmojiOpen(false);
                area.current?.focus();
              }}
            />
          ) : null}
        </div>
        <textarea
          ref={area}
          className="composer-input"
          rows={1}
          value={text}
          placeholder={t('composer.placeholder')}
          aria-label={t('composer.placeholder')}
          aria-autocomplete={members ? 'list' : undefined}
          aria-controls={suggestions.length ? listId : undefined}
          aria-activedescendant={undefined}
          data-testid="composer-input"
          onChange={(e) => {
            setText(e.target.value);
            updateQuery(e.target.value, e.target.selectionStart);
            if (conversationId != null && e.target.value.trim()) client.typing(conversationId);
          }}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onClick={(e) => updateQuery(text, e.currentTarget.selectionStart)}
          onBlur={() => setTimeout(() => setQuery(null), 150)}
        />
        {tooLong ? (
          <span className="char-count over" aria-live="polite">
            {Array.from(text).length}/{maxChars}
          </span>
        ) : null}
        {!trimmed && canRecord() ? (
          <button type="button" className="send-button mic" onClick={() => setRecording(true)} aria-label={t('media.recordVoice')} title={t('media.recordVoice')} data-testid="record">
            <Icon name="mic" size={20} />
          </button>
        ) : (
          <button
            type="button"
            className="send-button"
            onClick={send}
            disabled={!trimmed || tooLong}
            aria-label={t('composer.send')}
            title={t('composer.sendHint')}
            data-testid="send"
          >
            <Icon name="send" size={20} />
          </button>
        )}
      </div>
      )}
    </div>
  );
}
