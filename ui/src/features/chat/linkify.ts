// Splits text into plain runs, links and mentions. The view renders each part as a React
// text node or an <a>, so no HTML from a message is ever interpreted.

export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string } | { kind: 'mention'; text: string };

// A link ends at whitespace, quotes, angle brackets, or CJK text and full-width punctuation.
const URL_RE = /\b((?:https?:\/\/|www\.)[^\s<>"'`\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+)/gi;
const TRAILING = /[.,;:!?)\]}'"。，；：！？）】」』]+$/;

function safeHref(raw: string): string | null {
  const withScheme = /^www\./i.test(raw) ? `https://${raw}` : raw;
  try {
    const u = new URL(withScheme);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

export function linkify(text: string, mentionNames: string[] = []): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let raw = match[0];
    const start = match.index ?? 0;
    // Punctuation right after a link usually ends the sentence, unless brackets balance.
    const trail = raw.match(TRAILING)?.[0] ?? '';
    if (trail && !(trail.startsWith(')') && raw.includes('('))) raw = raw.slice(0, raw.length - trail.length);
    const href = safeHref(raw);
    if (!href) continue;
    if (start > last) parts.push(...mentions(text.slice(last, start), mentionNames));
    parts.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) parts.push(...mentions(text.slice(last), mentionNames));
  return parts;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function mentions(text: string, names: string[]): TextPart[] {
  const wanted = names.filter(Boolean).map((n) => `@${n}`);
  if (!wanted.length || !text.includes('@')) return text ? [{ kind: 'text', text }] : [];
  const re = new RegExp(`(${wanted.sort((a, b) => b.length - a.length).map(escapeRe).join('|')})`, 'g');
  const out: TextPart[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    const start = m.index ?? 0;
    if (start > last) out.push({ kind: 'text', text: text.slice(last, start) });
    out.push({ kind: 'mention', text: m[0] });
    last = start + m[0].length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}
