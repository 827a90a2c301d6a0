import { describe, expect, it } from 'vitest';
import { avatarColor, initials } from './Avatar';

describe('initials', () => {
  it('takes the first letters of the first two words', () => {
    expect(initials('Ann Lee')).toBe('AL');
    expect(initials('Bobby (hiking)')).toBe('BH');
    expect(initials('bob')).toBe('BO');
    expect(initials('  ')).toBe('?');
    expect(initials('(x)')).toBe('X');
  });

  it('uses one character for CJK names', () => {
    expect(initials('张伟')).toBe('张');
    expect(initials('さくら')).toBe('さ');
  });

  it('gives the same colour to the same id', () => {
    expect(avatarColor(7)).toBe(avatarColor(7));
    expect(avatarColor(-3)).toMatch(/^#/);
  });
});
