// Binds the signed-in app to the desktop shell: every new message is offered to the shell's
// notification decision, the unread total goes to the badge, a clicked notification opens its
// conversation, and files dropped from the OS are handed to the page. Call once inside the
// signed-in app (e.g. in Shell); outside the desktop app it does nothing.

import { useEffect, useRef } from 'react';
import { conversationTitle, totalUnread, type ConfabClient, type Message } from '../client';
import { useChat, usePeople, useServices } from '../app/services';
import { useNavigation } from '../app/navigation';
import { useI18n } from '../i18n';
import { previewText } from '../features/conversations/preview';
import { usePrefs } from '../features/settings/preferences';
import { messageReceived, onDragState, onDrop, onOpenConversation, setUnread, type IncomingMessageInfo, type PickedFile } from './bridge';
import { isDesktop } from './ipc';

/** Dispatched on `window` when files are dropped from the OS; `detail` is `PickedFile[]`. */
export const DROP_EVENT = 'confab:desktop-drop';
/** Dispatched on `window` while files are dragged over it; `detail` is 'enter' | 'leave'. */
export const DRAG_EVENT = 'confab:desktop-drag';

// Only one binding acts, even if both the desktop entry and the Shell call the hook.
let owner: symbol | null = null;

export function useDesktop(): void {
  const desktop = isDesktop();
  const { client } = useServices();
  const { prefs } = usePrefs();
  const { t } = useI18n();
  const people = usePeople();
  const nav = useNavigation();
  const unread = useChat(totalUnread);
  const latest = useRef({ prefs, t, people, nav });
  latest.current = { prefs, t, people, nav };
  const id = useRef(Symbol('desktop'));

  useEffect(() => {
    if (!desktop) return;
    if (owner === null) owner = id.current;
    const me = id.current;
    return () => {
      if (owner === me) owner = null;
    };
  }, [desktop]);
  const owns = () => owner === id.current;

  // The badge, window title and tray follow the unread total.
  useEffect(() => {
    if (!desktop || !owns()) return;
    setUnread(unread)
      .then((v) => {
        document.documentElement.dataset.desktopUnread = String(v.count);
        document.documentElement.dataset.desktopBadge = v.label;
      })
      .catch(() => {});
  }, [desktop, unread]);

  useEffect(() => {
    if (!desktop) return;
    // New messages come pushed ('incoming') or, for a conversation this device did not know
    // yet, through a sync; both end in the conversation's summary. Each is offered once.
    const offered = new Set<string>();
    const offerOnce = (m: Message) => {
      const key = `${m.conversation_id}:${m.seq}`;
      if (offered.has(key) || m.sender_id === client.me || !owns()) return;
      offered.add(key);
      offer(m);
    };
    const known = new Map<number, number>();
    for (const e of Object.values(client.getState().conversations)) known.set(e.summary.id, e.summary.last_seq);
    const offState = client.subscribe(() => {
      for (const e of Object.values(client.getState().conversations)) {
        const last = e.summary.last_message;
        const before = known.get(e.summary.id) ?? 0;
        known.set(e.summary.id, e.summary.last_seq);
        if (last && last.seq > before) offerOnce(last);
      }
    });
    const offIncoming = client.events.on('incoming', (m: Message) => {
      if (!owns()) return;
      void whenConversation(client, m.conversation_id, 5000).then((found) => {
        if (found) offerOnce(m);
      });
    });
    const offer = (m: Message) => {
      const { prefs: p, t: tr, people: ppl, nav: n } = latest.current;
      const conv = client.getState().conversations[m.conversation_id];
      if (!conv) return;
      const info: IncomingMessageInfo = {
        conversation_id: m.conversation_id,
        kind: conv.summary.kind === 'group' ? 'group' : 'direct',
        conversation_title: conversationTitle(conv.summary),
        sender_name: ppl.name(m.sender_id, m.conversation_id),
        preview: previewText(m, tr, (uid) => ppl.name(uid, m.conversation_id), client.me),
        from_me: m.sender_id === client.me,
        system: m.content.type === 'system',
        muted: conv.summary.muted,
      };
      const open = n.section === 'chats' && n.chat && 'conversation' in n.chat ? n.chat.conversation : null;
      messageReceived(info, { enabled: p.notify, preview: p.notifyPreview, generic_body: tr('notify.newMessage') }, open)
        .then((shown) => {
          if (shown) document.documentElement.dataset.desktopNotified = `${shown.conversation_id}|${shown.title}|${shown.body}`;
        })
        .catch((e: unknown) => {
          document.documentElement.dataset.desktopError = String((e as { message?: string })?.message ?? e);
        });
    };
    const offOpen = onOpenConversation((conversation) => {
      if (owns()) latest.current.nav.openChat({ conversation });
    });
    const offDrag = onDragState((state) => {
      if (owns()) window.dispatchEvent(new CustomEvent(DRAG_EVENT, { detail: state }));
    });
    const offDrop = onDrop((files: PickedFile[]) => {
      if (owns()) window.dispatchEvent(new CustomEvent(DROP_EVENT, { detail: files }));
    });
    return () => {
      offIncoming();
      offState();
      offOpen();
      offDrag();
      offDrop();
    };
  }, [desktop, client]);
}

/** Resolves true once the client knows the conversation, false after `timeoutMs`. */
export function whenConversation(client: Pick<ConfabClient, 'getState' | 'subscribe'>, id: number, timeoutMs: number): Promise<boolean> {
  if (client.getState().conversations[id]) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (found: boolean) => {
      clearTimeout(timer);
      off();
      resolve(found);
    };
    const off = client.subscribe(() => {
      if (client.getState().conversations[id]) done(true);
    });
    const timer = setTimeout(() => done(false), timeoutMs);
  });
}
