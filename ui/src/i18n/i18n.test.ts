import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { en } from './en';
import { zhCN } from './zh-CN';
import { detectLanguage, format, translate } from './index';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name) && !p.includes('/i18n/')) out.push(p);
  }
  return out;
}

const srcDir = join(__dirname, '..');
const enKeys = Object.keys(en).sort();
const zhKeys = Object.keys(zhCN).sort();

/** Every `t('…')`, `tn('…'` and dictionary-looking literal typed as a message key. */
function usedKeys(): Map<string, string> {
  const used = new Map<string, string>();
  for (const file of sources(srcDir)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bt\(\s*'([^']+)'/g)) used.set(m[1], file);
    for (const m of text.matchAll(/\btn\(\s*'([^']+)'/g)) {
      used.set(`${m[1]}_one`, file);
      used.set(`${m[1]}_other`, file);
    }
    // Keys held in typed tables, e.g. `label: 'nav.chats'` or `free: 'group.policy.free'`.
    for (const m of text.matchAll(/:\s*'((?:common|nav|auth|connection|chats|chat|message|status|composer|emoji|system|presence|contacts|group|duration|assistant|settings|notify|error)\.[A-Za-z0-9_.]+)'/g)) {
      used.set(m[1], file);
    }
  }
  return used;
}

describe('i18n dictionaries', () => {
  it('have the same keys in English and Simplified Chinese', () => {
    expect(zhKeys).toEqual(enKeys);
  });

  it('have no empty strings', () => {
    for (const k of enKeys) {
      expect(en[k as keyof typeof en].trim(), `en ${k}`).not.toBe('');
      expect(zhCN[k as keyof typeof zhCN].trim(), `zh-CN ${k}`).not.toBe('');
    }
  });

  it('use the same placeholders in both languages', () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const k of enKeys) {
      expect(names(zhCN[k as keyof typeof zhCN]), k).toEqual(names(en[k as keyof typeof en]));
    }
  });

  it('contain every key the code uses', () => {
    const missing = [...usedKeys()].filter(([k]) => !(k in en)).map(([k, f]) => `${k} (${f})`);
    expect(missing).toEqual([]);
  });

  it('contain no key the code never uses', () => {
    const used = usedKeys();
    const unused = enKeys.filter((k) => !used.has(k));
    expect(unused).toEqual([]);
  });
});

describe('i18n helpers', () => {
  it('follows the browser language', () => {
    expect(detectLanguage(['zh-TW', 'en'])).toBe('zh-CN');
    expect(detectLanguage(['zh-CN'])).toBe('zh-CN');
    expect(detectLanguage(['en-GB', 'zh-CN'])).toBe('en');
    expect(detectLanguage(['fr-FR'])).toBe('en');
    expect(detectLanguage([])).toBe('en');
  });

  it('fills placeholders', () => {
    expect(format('{a} and {b}', { a: 1, b: 'x' })).toBe('1 and x');
    expect(format('{missing}', {})).toBe('{missing}');
    expect(translate('zh-CN', 'chat.typingOne', { name: 'Bob' })).toBe('Bob 正在输入…');
  });
});
