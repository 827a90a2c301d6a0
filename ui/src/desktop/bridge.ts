// The desktop shell's commands and events, typed. Rust side: src-tauri/src/commands.rs.

import { invoke, listen } from './ipc';

export interface DesktopSettings {
  server_url: string;
  close_to_tray: boolean;
  /** e.g. "CommandOrControl+Shift+K"; empty for none. */
  show_shortcut: string;
}

export interface SettingsView {
  settings: DesktopSettings;
  /** The server this run uses. */
  server_url: string;
  first_run: boolean;
  /** A new server was saved: the app restarts to use it. */
  restarting: boolean;
}

/** `{ code, message }` — every command's error. */
export interface CommandError {
  code: 'invalid_server' | 'invalid_shortcut' | 'unknown_file' | 'file_too_large' | 'bad_request' | 'io' | 'internal';
  message: string;
}

export interface IncomingMessageInfo {
  conversation_id: number;
  kind: 'direct' | 'group';
  conversation_title: string;
  sender_name: string;
  preview: string;
  from_me: boolean;
  system: boolean;
  muted: boolean;
}

export interface NotifyPrefs {
  enabled: boolean;
  preview: boolean;
  generic_body: string;
}

export interface NotificationText {
  conversation_id: number;
  title: string;
  body: string;
}

export interface BadgeView {
  count: number;
  badge: number | null;
  label: string;
  title: string;
  tooltip: string;
  menu_text: string;
}

export interface PickedFile {
  token: number;
  name: string;
  size: number;
}

export const getSettings = () => invoke<SettingsView>('get_settings');

export const setSettings = (patch: Partial<DesktopSettings>) => invoke<SettingsView>('set_settings', { patch });

/** Shows a native notification when the shell decides so; resolves to what was shown. */
export const messageReceived = (message: IncomingMessageInfo, prefs: NotifyPrefs, openConversation: number | null) =>
  invoke<NotificationText | null>('message_received', { message, prefs, openConversation });

export const setUnread = (count: number) => invoke<BadgeView>('set_unread', { count });

export const unreadState = () => invoke<BadgeView>('unread_state');

/** The native open dialog; read each file with `readAttachment`. */
export const pickAttachments = () => invoke<PickedFile[]>('pick_attachments');

export async function readAttachment(file: PickedFile, type = ''): Promise<File> {
  const bytes = await invoke<ArrayBuffer>('read_attachment', { token: file.token });
  return new File([bytes], file.name, { type });
}

/** Save-as for a received file: resolves to the saved path, or null when cancelled. */
export async function saveFile(name: string, data: Blob | ArrayBuffer): Promise<string | null> {
  const buf = data instanceof Blob ? await data.arrayBuffer() : data;
  return invoke<string | null>('save_file', new Uint8Array(buf), { headers: { 'x-file-name': encodeURIComponent(name) } });
}

export const onOpenConversation = (h: (conversationId: number) => void) =>
  listen<{ conversation_id: number }>('desktop://open-conversation', (p) => h(p.conversation_id));

export const onDragState = (h: (state: 'enter' | 'leave') => void) =>
  listen<{ state: 'enter' | 'leave' }>('desktop://drag', (p) => h(p.state));

/** Files dropped on the window from the OS. */
export const onDrop = (h: (files: PickedFile[]) => void) => listen<{ files: PickedFile[] }>('desktop://drop', (p) => h(p.files));
