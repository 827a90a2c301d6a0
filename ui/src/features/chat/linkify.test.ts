import { describe, expect, it } from 'vitest';
import { linkify } from './linkify';

describe('linkify', () => {
  it('turns http(s) and www links into links and leaves the rest as text', () => {
    expect(linkify('see https://example.com/a?b=1, and www.test.org.')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { kind: 'text', text: ', and ' },
      { kind: 'link', text: 'www.test.org', href: 'https://www.test.org/' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('keeps markup as plain text and never links other schemes', () => {
    const evil = '<img src=x onerror=alert(1)> javascript:alert(1) data:text/html,<b>';
    expect(linkify(evil)).toEqual([{ kind: 'text', text: evil }]);
  });

  it('keeps balanced parentheses in links', () => {
    const parts = linkify('(https://en.wikipedia.org/wiki/Foo_(bar))');
    expect(parts.find((p) => p.kind === 'link')?.text).toBe('https://en.wikipedia.org/wiki/Foo_(bar))');
  });

  it('marks mentions of known names', () => {
    expect(linkify('hi @Bob Chen and @nobody', ['Bob Chen'])).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'mention', text: '@Bob Chen' },
      { kind: 'text', text: ' and @nobody' },
    ]);
  });

  it('handles Chinese punctuation after links', () => {
    const parts = linkify('看这个https://example.com。好的');
    expect(parts.find((p) => p.kind === 'link')?.text).toBe('https://example.com');
  });
});
