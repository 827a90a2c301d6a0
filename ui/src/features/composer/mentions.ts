// @mention editing: finding the word being typed after "@", replacing it with a name, and
// working out who is still mentioned when the message is sent.

export interface MentionQuery {
  /** Index of the "@". */
  start: number;
  query: string;
}

/** The mention being typed at the caret: "@" at a word start, then no whitespace. */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return null;
  if (at > 0 && !/\s/.test(before[at - 1])) return null;
  const query = before.slice(at + 1);
  if (/\s/.test(query) || query.length > 32) return null;
  return { start: at, query };
}

/** Replaces the typed "@query" with "@name " and returns the new text and caret. */
export function applyMention(text: string, q: MentionQuery, caret: number, name: string): { text: string; caret: number } {
  const insert = `@${name} `;
  const next = text.slice(0, q.start) + insert + text.slice(caret).replace(/^ /, '');
  return { text: next, caret: q.start + insert.length };
}

/** Ids of chosen mentions whose "@name" is still in the text. */
export function collectMentions(text: string, chosen: Array<{ id: number; name: string }>): number[] {
  const ids = new Set<number>();
  for (const c of chosen) if (c.id > 0 && text.includes(`@${c.name}`)) ids.add(c.id);
  return [...ids];
}

/** Whether a member matches what was typed (name, nickname or username, case-insensitive). */
export function matchesMention(query: string, ...names: Array<string | null | undefined>): boolean {
  const q = query.toLowerCase();
  return names.some((n) => n && n.toLowerCase().includes(q));
}
