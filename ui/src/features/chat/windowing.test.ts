import { describe, expect, it } from 'vitest';
import { HeightIndex } from './windowing';

function naive(heights: number[], top: number) {
  const offsets = [top];
  for (const h of heights) offsets.push(offsets[offsets.length - 1] + h);
  return offsets;
}

describe('HeightIndex', () => {
  it('gives the same offsets as a running sum, before and after updates', () => {
    const heights = Array.from({ length: 1000 }, (_, i) => 20 + ((i * 37) % 50));
    const idx = new HeightIndex(heights, 8);
    let offsets = naive(heights, 8);
    for (const i of [0, 1, 2, 500, 999, 123]) expect(idx.offset(i)).toBe(offsets[i]);
    expect(idx.total).toBe(offsets[1000]);
    idx.set(10, 200);
    heights[10] = 200;
    idx.set(999, 1);
    heights[999] = 1;
    offsets = naive(heights, 8);
    for (let i = 0; i <= 1000; i += 37) expect(idx.offset(i)).toBe(offsets[i]);
    expect(idx.total).toBe(offsets[1000]);
  });

  it('finds the row at a pixel offset', () => {
    const heights = [10, 20, 30, 40];
    const idx = new HeightIndex(heights, 5);
    expect(idx.find(-3)).toBe(0);
    expect(idx.find(5)).toBe(0);
    expect(idx.find(14.9)).toBe(0);
    expect(idx.find(15)).toBe(1);
    expect(idx.find(34)).toBe(1);
    expect(idx.find(35)).toBe(2);
    expect(idx.find(64)).toBe(2);
    expect(idx.find(65)).toBe(3);
    expect(idx.find(10_000)).toBe(3);
    expect(new HeightIndex([]).find(10)).toBe(0);
  });

  it('stays fast with 100,000 rows', () => {
    const heights = Array.from({ length: 100_000 }, (_, i) => 30 + (i % 5) * 12);
    const t0 = performance.now();
    const idx = new HeightIndex(heights);
    for (let i = 0; i < 10_000; i++) {
      idx.set((i * 7919) % 100_000, 40);
      idx.find((i * 104_729) % idx.total);
    }
    expect(performance.now() - t0).toBeLessThan(500);
    const offsets = naive(
      Array.from({ length: 100_000 }, (_, i) => idx.height(i)),
      0,
    );
    for (let i = 0; i < 100_000; i += 9973) {
      expect(idx.offset(i)).toBeCloseTo(offsets[i], 6);
      expect(idx.find(offsets[i] + 0.5)).toBe(i);
    }
  });
});
