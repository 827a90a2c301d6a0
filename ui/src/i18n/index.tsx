// A small typed dictionary: English is the reference, every other language must have the same
// keys (the compiler checks it, and i18n.test.ts checks every key used in the code exists).

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { en, type MessageKey } from './en';
import { zhCN } from './zh-CN';

export type { MessageKey } from './en';
export type Language = 'en' | 'zh-CN';

export const LANGUAGES: Array<{ id: Language; label: string }> = [
  { id: 'zh-CN', label: '简体中文' },
  { id: 'en', label: 'English' },
];

export const dictionaries: Record<Language, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

/** Keys that have both a `_one` and an `_other` form. */
export type PluralKey = {
  [K in MessageKey]: K extends `${infer B}_one` ? (`${B}_other` extends MessageKey ? B : never) : never;
}[MessageKey];

export type Params = Record<string, string | number>;

/** Picks the language a browser asks for: Chinese for any zh-*, English otherwise. */
export function detectLanguage(preferred: readonly string[] = typeof navigator !== 'undefined' ? navigator.languages ?? [navigator.language] : []): Language {
  for (const l of preferred) {
    const lower = l.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export function format(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

export function translate(lang: Language, key: MessageKey, params?: Params): string {
  return format(dictionaries[lang][key] ?? en[key] ?? key, params);
}

export interface I18n {
  lang: Language;
  /** The language chosen in settings, or null to follow the browser. */
  choice: Language | null;
  setChoice(lang: Language | null): void;
  t(key: MessageKey, params?: Params): string;
  /** Plural: `key_one` for one, `key_other` otherwise; `{count}` is filled in. */
  tn(key: PluralKey, count: number, params?: Params): string;
  locale: string;
}

const STORAGE_KEY = 'confab.language';
const Ctx = createContext<I18n | null>(null);

function storedChoice(): Language | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v === 'en' || v === 'zh-CN' ? v : null;
  } catch {
    return null;
  }
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [choice, setChoiceState] = useState<Language | null>(storedChoice);
  const [browser, setBrowser] = useState<Language>(() => detectLanguage());
  useEffect(() => {
    const onChange = () => setBrowser(detectLanguage());
    window.addEventListener('languagechange', onChange);
    return () => window.removeEventListener('languagechange', onChange);
  }, []);
  const lang = choice ?? browser;
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const setChoice = useCallback((l: Language | null) => {
    setChoiceState(l);
    try {
      if (l) localStorage.setItem(STORAGE_KEY, l);
      else localStorage.removeItem(STORAGE_KEY);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
  }, []);
  const value = useMemo<I18n>(() => {
    const t = (key: MessageKey, params?: Params) => translate(lang, key, params);
    return {
      lang,
      choice,
      setChoice,
      t,
      tn: (key, count, params) => t(`${key}_${count === 1 ? 'one' : 'other'}` as MessageKey, { count, ...params }),
      locale: lang === 'zh-CN' ? 'zh-CN' : 'en',
    };
  }, [lang, choice, setChoice]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
