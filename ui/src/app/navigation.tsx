// Where the person is in the app: the section in the rail, the open chat, the side panel.
// The open chat is mirrored in the address (#/chat/12) so a reload comes back to it.

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

export type Section = 'chats' | 'contacts' | 'assistant' | 'settings';
export type ChatTarget = { conversation: number } | { user: number };
export type Panel = { kind: 'info' } | { kind: 'user'; userId: number } | null;

interface Navigation {
  section: Section;
  setSection(s: Section): void;
  chat: ChatTarget | null;
  openChat(t: ChatTarget | null): void;
  panel: Panel;
  setPanel(p: Panel): void;
  /** A contact picked in the contacts section. */
  contact: number | null;
  setContact(id: number | null): void;
  settingsPage: string;
  setSettingsPage(p: string): void;
}

const Ctx = createContext<Navigation | null>(null);

function fromHash(): ChatTarget | null {
  const m = /^#\/chat\/(\d+)$/.exec(typeof location !== 'undefined' ? location.hash : '');
  return m ? { conversation: Number(m[1]) } : null;
}

export function NavigationProvider({ children }: { children: ReactNode }) {
  const [section, setSection] = useState<Section>('chats');
  const [chat, setChat] = useState<ChatTarget | null>(fromHash);
  const [panel, setPanel] = useState<Panel>(null);
  const [contact, setContact] = useState<number | null>(null);
  const [settingsPage, setSettingsPage] = useState('profile');

  const openChat = useCallback((t: ChatTarget | null) => {
    setChat(t);
    setPanel(null);
    if (t) setSection('chats');
  }, []);

  useEffect(() => {
    const want = chat && 'conversation' in chat ? `#/chat/${chat.conversation}` : '';
    if (location.hash !== want) history.replaceState(null, '', want || location.pathname + location.search);
  }, [chat]);

  const value = useMemo(
    () => ({ section, setSection, chat, openChat, panel, setPanel, contact, setContact, settingsPage, setSettingsPage }),
    [section, chat, openChat, panel, contact, settingsPage],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useNavigation(): Navigation {
  const v = useContext(Ctx);
  if (!v) throw new Error('useNavigation outside NavigationProvider');
  return v;
}
