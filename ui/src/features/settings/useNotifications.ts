import { useEffect, useRef } from 'react';
import { conversationTitle, totalUnread } from '../../client/store';
import { useChat, usePeople, useServices } from '../../app/services';
import { useNavigation } from '../../app/navigation';
import { useI18n } from '../../i18n';
import { previewText } from '../conversations/preview';
import { usePrefs } from './preferences';
import { isDesktop } from '../../desktop/ipc';

function beep(): void {
  try {
    const Ctx = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Ctx) return;
    const ctx = new Ctx();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.25);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.25);
    osc.onended = () => void ctx.close();
  } catch {
    // Sound is optional.
  }
}

/** Desktop notifications and sound for new messages, and the unread count in the title. */
export function useNotifications(): void {
  const { client } = useServices();
  const { prefs } = usePrefs();
  const { t } = useI18n();
  const people = usePeople();
  const nav = useNavigation();
  const unread = useChat(totalUnread);
  const latest = useRef({ prefs, t, people, chat: nav.chat, openChat: nav.openChat });
  latest.current = { prefs, t, people, chat: nav.chat, openChat: nav.openChat };

  useEffect(() => {
    document.title = unread > 0 ? `(${unread > 999 ? '999+' : unread}) Confab` : 'Confab';
  }, [unread]);

  useEffect(
    () =>
      client.events.on('incoming', (m) => {
        const l = latest.current;
        const { prefs: p, people: ppl, chat, openChat } = l;
        const conv = client.getState().conversations[m.conversation_id];
        if (!conv || conv.summary.muted || m.content.type === 'system') return;
        const viewing = chat && 'conversation' in chat && chat.conversation === m.conversation_id && document.visibilityState === 'visible';
        if (viewing) return;
        if (p.sound) beep();
        // In the desktop app the native notification comes from the shell (useDesktop).
        if (isDesktop() || !p.notify || typeof Notification === 'undefined' || Notification.permission !== 'granted' || document.visibilityState === 'visible') return;
        const title = conversationTitle(conv.summary);
        const sender = ppl.name(m.sender_id, m.conversation_id);
        const text = p.notifyPreview ? previewText(m, l.t, (id) => ppl.name(id, m.conversation_id), client.me) : l.t('notify.newMessage');
        try {
          const n = new Notification(title, {
            body: conv.summary.kind === 'group' ? `${sender}: ${text}` : text,
            tag: `confab-${m.conversation_id}`,
          });
          n.onclick = () => {
            window.focus();
            openChat({ conversation: m.conversation_id });
            n.close();
          };
        } catch {
          // Some browsers only allow notifications from a service worker.
        }
      }),
    [client],
  );
}
