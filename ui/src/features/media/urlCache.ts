// Short-lived signed URLs for `<img>`, `<video>` and download links. Each (blob, variant) is
// asked for once with `media_url`, kept until shortly before it expires, and asked for again
// after; concurrent askers share one request.

export interface SignedUrl {
  url: string;
  expires_at: number;
}

export type SignedUrlFetcher = (mediaId: string, thumbnail: boolean) => Promise<SignedUrl>;

export interface SignedUrlCacheOptions {
  /** Turns the server's relative path into an absolute URL. */
  base?: string;
  /** A URL is renewed this long before it expires. */
  marginMs?: number;
  now?: () => number;
}

function key(mediaId: string, thumbnail: boolean): string {
  return `${mediaId}${thumbnail ? ':t' : ''}`;
}

export class SignedUrlCache {
  private entries = new Map<string, SignedUrl>();
  private inflight = new Map<string, Promise<string>>();
  private readonly base: string;
  private readonly marginMs: number;
  private readonly now: () => number;

  constructor(
    private readonly fetcher: SignedUrlFetcher,
    opts: SignedUrlCacheOptions = {},
  ) {
    this.base = (opts.base ?? '').replace(/\/+$/, '');
    this.marginMs = opts.marginMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  private absolute(url: string): string {
    return /^https?:\/\//i.test(url) ? url : `${this.base}${url.startsWith('/') ? '' : '/'}${url}`;
  }

  /** A URL still good for at least the margin, or null. */
  peek(mediaId: string, thumbnail = false): string | null {
    const e = this.entries.get(key(mediaId, thumbnail));
    if (!e) return null;
    if (e.expires_at - this.marginMs <= this.now()) {
      this.entries.delete(key(mediaId, thumbnail));
      return null;
    }
    return e.url;
  }

  /** Records a URL learnt elsewhere (the upload answer carries them). */
  put(mediaId: string, thumbnail: boolean, url: string, expiresAt: number): void {
    this.entries.set(key(mediaId, thumbnail), { url: this.absolute(url), expires_at: expiresAt });
  }

  /** A usable URL: from the cache, or asked for (once for concurrent callers). */
  get(mediaId: string, thumbnail = false): Promise<string> {
    const hit = this.peek(mediaId, thumbnail);
    if (hit) return Promise.resolve(hit);
    const k = key(mediaId, thumbnail);
    const running = this.inflight.get(k);
    if (running) return running;
    const p = this.fetcher(mediaId, thumbnail)
      .then((r) => {
        const url = this.absolute(r.url);
        this.entries.set(k, { url, expires_at: r.expires_at });
        return url;
      })
      .finally(() => this.inflight.delete(k));
    this.inflight.set(k, p);
    return p;
  }

  /** Forgets a URL (e.g. after the browser failed to load it). */
  invalidate(mediaId: string, thumbnail = false): void {
    this.entries.delete(key(mediaId, thumbnail));
  }

  /** Milliseconds until the cached URL needs renewing (null when none is held). */
  renewIn(mediaId: string, thumbnail = false): number | null {
    const e = this.entries.get(key(mediaId, thumbnail));
    return e ? Math.max(0, e.expires_at - this.marginMs - this.now()) : null;
  }
}
