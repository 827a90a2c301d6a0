// Row positions for the windowed list: a Fenwick tree over row heights, so updating one height
// and finding the row at a pixel offset both take O(log n) even with 100,000 rows.

export class HeightIndex {
  readonly n: number;
  private readonly tree: Float64Array;
  private readonly heights: Float64Array;
  private readonly top: number;
  private readonly highBit: number;

  constructor(heights: ArrayLike<number>, paddingTop = 0) {
    this.n = heights.length;
    this.top = paddingTop;
    this.heights = Float64Array.from(heights);
    this.tree = new Float64Array(this.n + 1);
    // Linear-time build.
    for (let i = 1; i <= this.n; i++) {
      this.tree[i] += this.heights[i - 1];
      const parent = i + (i & -i);
      if (parent <= this.n) this.tree[parent] += this.tree[i];
    }
    let b = 1;
    while (b * 2 <= this.n) b *= 2;
    this.highBit = this.n ? b : 0;
  }

  height(i: number): number {
    return this.heights[i];
  }

  /** Changes one row's height; returns the difference. */
  set(i: number, h: number): number {
    const delta = h - this.heights[i];
    if (delta === 0) return 0;
    this.heights[i] = h;
    for (let j = i + 1; j <= this.n; j += j & -j) this.tree[j] += delta;
    return delta;
  }

  /** Sum of the heights of rows 0..i-1. */
  private prefix(i: number): number {
    let s = 0;
    for (let j = i; j > 0; j -= j & -j) s += this.tree[j];
    return s;
  }

  /** Top of row i (i = n gives the bottom of the last row). */
  offset(i: number): number {
    return this.top + this.prefix(i);
  }

  get total(): number {
    return this.top + this.prefix(this.n);
  }

  /** The row containing pixel `y` (clamped to the first and last rows). */
  find(y: number): number {
    if (this.n === 0) return 0;
    let rem = y - this.top;
    if (rem <= 0) return 0;
    let pos = 0;
    for (let step = this.highBit; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= this.n && this.tree[next] <= rem) {
        pos = next;
        rem -= this.tree[next];
      }
    }
    return Math.min(pos, this.n - 1);
  }
}
