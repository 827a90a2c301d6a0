// The signed-in session and the chosen server address, kept in localStorage.

import type { UserPublic } from '../../client';
import { desktopServerUrl } from '../../desktop/ipc';

export interface StoredSession {
  serverUrl: string;
  token: string;
  deviceId: number;
  expiresAt: number;
  user: UserPublic;
}

const SESSION_KEY = 'confab.session';
const SERVER_KEY = 'confab.server';

function read<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

function write(key: string, value: unknown): void {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, typeof value === 'string' ? value : JSON.stringify(value));
  } catch {
    // Storage unavailable (private mode): the session lasts for this page.
  }
}

export function loadSession(): StoredSession | null {
  const s = read<StoredSession>(SESSION_KEY);
  if (!s || typeof s.token !== 'string' || typeof s.serverUrl !== 'string') return null;
  if (s.expiresAt && s.expiresAt < Date.now()) return null;
  return s;
}

export function saveSession(s: StoredSession | null): void {
  write(SESSION_KEY, s);
}

/** The page's own origin unless another server was chosen. */
export function defaultServerUrl(): string {
  const desktop = desktopServerUrl();
  if (desktop) return desktop;
  return typeof location !== 'undefined' && /^https?:$/.test(location.protocol) ? location.origin : 'http://127.0.0.1:8080';
}

export function loadServerUrl(): string {
  const desktop = desktopServerUrl();
  if (desktop) return desktop;
  try {
    return localStorage.getItem(SERVER_KEY) || defaultServerUrl();
  } catch {
    return defaultServerUrl();
  }
}

export function saveServerUrl(url: string): void {
  write(SERVER_KEY, url === defaultServerUrl() ? null : url);
}

/** "Chrome on Linux" — how this browser appears in the device list. */
export function deviceName(ua: string = typeof navigator !== 'undefined' ? navigator.userAgent : ''): string {
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Mac OS X/.test(ua)
      ? 'macOS'
      : /Android/.test(ua)
        ? 'Android'
        : /iPhone|iPad/.test(ua)
          ? 'iOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return `Web · ${browser}${os ? ` on ${os}` : ''}`;
}
