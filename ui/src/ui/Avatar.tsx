// A round avatar: the initials of a name on a colour picked from the id, so the same person
// always gets the same colour.

import { Icon } from './Icon';

const PALETTE = ['#e17076', '#eda86c', '#a695e7', '#7bc862', '#6ec9cb', '#65aadd', '#ee7aae', '#f2a93b'];

export function initials(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) return '?';
  const chars = Array.from(trimmed);
  // CJK names: the first character reads best.
  if (/[\u3400-\u9fff\uac00-\ud7af\u3040-\u30ff]/.test(chars[0])) return chars[0];
  // The first letter or digit of the first two words ("Bobby (hiking)" → "BH").
  const firsts = trimmed
    .split(/\s+/)
    .map((w) => w.match(/[\p{L}\p{N}]/u)?.[0])
    .filter((c): c is string => !!c);
  if (firsts.length >= 2) return (firsts[0] + firsts[1]).toUpperCase();
  const letters = Array.from(trimmed).filter((c) => /[\p{L}\p{N}]/u.test(c));
  return (letters.slice(0, 2).join('') || chars[0]).toUpperCase();
}

export function avatarColor(id: number): string {
  return PALETTE[Math.abs(id) % PALETTE.length];
}

export function Avatar({
  id,
  name,
  size = 44,
  online,
  group,
  bot,
}: {
  id: number;
  name: string;
  size?: number;
  online?: boolean;
  group?: boolean;
  /** The AI assistant: its own mark instead of initials. */
  bot?: boolean;
}) {
  if (bot) {
    return (
      <span className="avatar assistant-avatar" style={{ width: size, height: size }} aria-hidden="true">
        <Icon name="sparkles" size={Math.round(size * 0.5)} />
        {online ? <span className="avatar-online" /> : null}
      </span>
    );
  }
  return (
    <span
      className={`avatar${group ? ' avatar-group' : ''}`}
      style={{ width: size, height: size, fontSize: Math.round(size * 0.38), background: avatarColor(id) }}
      aria-hidden="true"
    >
      {initials(name)}
      {online ? <span className="avatar-online" /> : null}
    </span>
  );
}
