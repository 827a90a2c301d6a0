import { describe, expect, it } from 'vitest';
import { applyMention, collectMentions, matchesMention, mentionQuery } from './mentions';

describe('mentions', () => {
  it('finds the mention being typed at the caret', () => {
    expect(mentionQuery('hello @bo', 9)).toEqual({ start: 6, query: 'bo' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('mail me@host', 12)).toBeNull();
    expect(mentionQuery('@bob is here', 12)).toBeNull();
    expect(mentionQuery('你好 @小', 5)).toEqual({ start: 3, query: '小' });
  });

  it('replaces the query with the name', () => {
    const q = mentionQuery('hi @bo and', 6)!;
    expect(applyMention('hi @bo and', q, 6, 'Bob Chen')).toEqual({ text: 'hi @Bob Chen and', caret: 13 });
  });

  it('keeps only mentions still in the text', () => {
    const chosen = [
      { id: 2, name: 'Bob' },
      { id: 3, name: 'Cy' },
      { id: 2, name: 'Bob' },
    ];
    expect(collectMentions('hey @Bob', chosen)).toEqual([2]);
    expect(matchesMention('bo', 'Bob Chen', null)).toBe(true);
    expect(matchesMention('zz', 'Bob Chen', 'bob')).toBe(false);
  });
});
