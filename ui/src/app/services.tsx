// Everything the signed-in app shares: the client, the people directory, contacts and the
// read-by cache, plus hooks that re-render on their changes.

import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { ConfabClient, ConnectionState } from '../client';
import type { ChatState } from '../client/store';
import { ContactsStore } from '../features/contacts/contactsStore';
import { PeopleDirectory } from '../features/people/directory';
import { ReadByCache } from '../features/chat/readBy';
import { GroupStore } from '../features/groups/groupStore';
import { MediaService } from '../features/media/mediaService';
import { AssistantStore } from '../features/assistant/assistantStore';

export interface Services {
  client: ConfabClient;
  people: PeopleDirectory;
  contacts: ContactsStore;
  readBy: ReadByCache;
  groups: GroupStore;
  media: MediaService;
  assistant: AssistantStore;
}

const Ctx = createContext<Services | null>(null);

export function ServicesProvider({ client, children, fallback }: { client: ConfabClient; children: ReactNode; fallback?: ReactNode }) {
  const [services, setServices] = useState<Services | null>(null);
  // Created and disposed with the client (StrictMode-safe).
  useEffect(() => {
    const people = new PeopleDirectory(client);
    const s: Services = { client, people, contacts: new ContactsStore(client, people), readBy: new ReadByCache(client), groups: new GroupStore(client), media: new MediaService(client), assistant: new AssistantStore(client) };
    if (client.connection.hello) void s.assistant.loadStatus();
    setServices(s);
    return () => {
      s.people.dispose();
      s.contacts.dispose();
      s.readBy.dispose();
      s.groups.dispose();
      s.media.dispose();
      s.assistant.dispose();
    };
  }, [client]);
  if (!services || services.client !== client) return <>{fallback ?? null}</>;
  return <Ctx.Provider value={services}>{children}</Ctx.Provider>;
}

export function useServices(): Services {
  const v = useContext(Ctx);
  if (!v) throw new Error('useServices outside ServicesProvider');
  return v;
}

/** A slice of the client state; re-renders only when the slice changes (by reference). */
export function useChat<T>(select: (s: ChatState) => T): T {
  const { client } = useServices();
  return useSyncExternalStore(client.subscribe, () => select(client.getState()));
}

export function useConnectionState(): ConnectionState {
  const { client } = useServices();
  return useSyncExternalStore(
    (l) => client.events.on('connection', l),
    () => client.connection.state,
  );
}

export function usePeople(): PeopleDirectory {
  const { people } = useServices();
  useSyncExternalStore(people.subscribe, people.getVersion);
  return people;
}

export function useContacts(): ContactsStore {
  const { contacts } = useServices();
  useSyncExternalStore(contacts.subscribe, contacts.getVersion);
  return contacts;
}

export function useGroups(): GroupStore {
  const { groups } = useServices();
  useSyncExternalStore(groups.subscribe, groups.getVersion);
  return groups;
}

export function useReadBy(): ReadByCache {
  const { readBy } = useServices();
  useSyncExternalStore(readBy.subscribe, readBy.getVersion);
  return readBy;
}

export function useMedia(): MediaService {
  const { media } = useServices();
  useSyncExternalStore(media.subscribe, media.getVersion);
  return media;
}

export function useAssistant(): AssistantStore {
  const { assistant } = useServices();
  useSyncExternalStore(assistant.subscribe, assistant.getVersion);
  return assistant;
}
