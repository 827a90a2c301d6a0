// Per-browser preferences: theme and notifications.

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

export type Theme = 'system' | 'light' | 'dark';

export interface Preferences {
  theme: Theme;
  /** Desktop notifications for new messages while the page is in the background. */
  notify: boolean;
  /** Show the message text in notifications. */
  notifyPreview: boolean;
  /** A short sound for new messages. */
  sound: boolean;
}

const DEFAULTS: Preferences = { theme: 'system', notify: true, notifyPreview: true, sound: false };
const KEY = 'confab.preferences';

function load(): Preferences {
  try {
    return { ...DEFAULTS, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Preferences>) };
  } catch {
    return DEFAULTS;
  }
}

interface PrefsValue {
  prefs: Preferences;
  setPrefs(patch: Partial<Preferences>): void;
  /** The theme in effect (system resolved). */
  dark: boolean;
}

const Ctx = createContext<PrefsValue | null>(null);

function systemDark(): boolean {
  return typeof matchMedia !== 'undefined' && matchMedia('(prefers-color-scheme: dark)').matches;
}

export function PrefsProvider({ children }: { children: ReactNode }) {
  const [prefs, setState] = useState<Preferences>(load);
  const [sysDark, setSysDark] = useState(systemDark);
  useEffect(() => {
    if (typeof matchMedia === 'undefined') return;
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const on = () => setSysDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  const dark = prefs.theme === 'dark' || (prefs.theme === 'system' && sysDark);
  useEffect(() => {
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
    document.documentElement.style.colorScheme = dark ? 'dark' : 'light';
  }, [dark]);
  const setPrefs = useCallback((patch: Partial<Preferences>) => {
    setState((p) => {
      const next = { ...p, ...patch };
      try {
        localStorage.setItem(KEY, JSON.stringify(next));
      } catch {
        // Kept for this page only.
      }
      return next;
    });
  }, []);
  const value = useMemo(() => ({ prefs, setPrefs, dark }), [prefs, setPrefs, dark]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function usePrefs(): PrefsValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('usePrefs outside PrefsProvider');
  return v;
}
