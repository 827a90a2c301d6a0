/** Exponential backoff with full jitter: attempt n waits a random time in [min, base·2ⁿ]. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Returns a number in [0, 1). */
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 15_000 };

export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const random = opts.random ?? Math.random;
  const ceiling = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt, 16));
  const floor = Math.min(opts.initialMs, ceiling) / 2;
  return Math.round(floor + random() * (ceiling - floor));
}
