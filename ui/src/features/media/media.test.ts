import { describe, expect, it, vi } from 'vitest';
import { fitBox, formatBytes, formatDuration } from './format';
import { kindOf, progressOf, uploadReducer, type UploadItem, type UploadState } from './uploads';
import { SignedUrlCache } from './urlCache';

const item = (over: Partial<UploadItem> = {}): UploadItem => ({
  id: 'u1',
  conversationKey: 'c1',
  name: 'cat.png',
  size: 1000,
  mime: 'image/png',
  kind: 'image',
  loaded: 0,
  status: 'uploading',
  ...over,
});
const IMAGE = { type: 'image' as const, media: { id: 'a'.repeat(64), mime: 'image/png', size: 1000 }, width: 4, height: 3, thumbnail: null, placeholder: '#808080' };

describe('upload state machine', () => {
  it('goes uploading → sending → done with monotonic progress', () => {
    let s: UploadState = uploadReducer([], { type: 'add', item: item() });
    s = uploadReducer(s, { type: 'progress', id: 'u1', loaded: 400 });
    expect(progressOf(s[0])).toBe(0.4);
    s = uploadReducer(s, { type: 'progress', id: 'u1', loaded: 300 });
    expect(s[0].loaded).toBe(400);
    s = uploadReducer(s, { type: 'progress', id: 'u1', loaded: 5000 });
    expect(s[0].loaded).toBe(1000);
    s = uploadReducer(s, { type: 'uploaded', id: 'u1', content: IMAGE });
    expect(s[0].status).toBe('sending');
    expect(s[0].content).toBe(IMAGE);
    s = uploadReducer(s, { type: 'sent', id: 'u1' });
    expect(s[0].status).toBe('done');
    s = uploadReducer(s, { type: 'remove', id: 'u1' });
    expect(s).toEqual([]);
  });

  it('retries a failed upload from the start, and a failed send without uploading again', () => {
    let s = uploadReducer([item({ loaded: 600 })], { type: 'failed', id: 'u1', error: 'network' });
    expect(s[0]).toMatchObject({ status: 'failed', error: 'network' });
    s = uploadReducer(s, { type: 'retry', id: 'u1' });
    expect(s[0]).toMatchObject({ status: 'uploading', loaded: 0, error: undefined });
    s = uploadReducer(s, { type: 'uploaded', id: 'u1', content: IMAGE });
    s = uploadReducer(s, { type: 'failed', id: 'u1', error: 'timeout' });
    s = uploadReducer(s, { type: 'retry', id: 'u1' });
    expect(s[0]).toMatchObject({ status: 'sending', loaded: 1000 });
  });

  it('ignores events that do not fit the current state', () => {
    const s = [item({ status: 'cancelled' })];
    expect(uploadReducer(s, { type: 'progress', id: 'u1', loaded: 10 })).toBe(s);
    expect(uploadReducer(s, { type: 'uploaded', id: 'u1', content: IMAGE })).toBe(s);
    expect(uploadReducer(s, { type: 'retry', id: 'u1' })).toBe(s);
    expect(uploadReducer(s, { type: 'failed', id: 'u1', error: 'x' })).toBe(s);
    expect(uploadReducer(s, { type: 'progress', id: 'nope', loaded: 10 })).toBe(s);
    const sending = [item({ status: 'sending' })];
    expect(uploadReducer(sending, { type: 'cancel', id: 'u1' })).toBe(sending);
    expect(uploadReducer([item()], { type: 'cancel', id: 'u1' })[0].status).toBe('cancelled');
  });

  it('claims a kind from the type', () => {
    expect(kindOf('image/png')).toBe('image');
    expect(kindOf('image/svg+xml')).toBe('file');
    expect(kindOf('audio/ogg')).toBe('voice');
    expect(kindOf('video/mp4')).toBe('video');
    expect(kindOf('application/pdf')).toBe('file');
  });
});

describe('signed URL cache', () => {
  it('asks once, shares concurrent asks, and renews shortly before expiry', async () => {
    let now = 1_000_000;
    const fetcher = vi.fn(async (id: string, thumb: boolean) => ({ url: `/api/v1/media/${id}${thumb ? '/thumb' : ''}?exp=${now}`, expires_at: now + 600_000 }));
    const cache = new SignedUrlCache(fetcher, { base: 'http://h:1/', marginMs: 60_000, now: () => now });
    const [a, b] = await Promise.all([cache.get('x'), cache.get('x')]);
    expect(a).toBe('http://h:1/api/v1/media/x?exp=1000000');
    expect(b).toBe(a);
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(await cache.get('x', true)).toContain('/thumb');
    expect(fetcher).toHaveBeenCalledTimes(2);
    now += 500_000;
    expect(cache.peek('x')).toBe(a);
    expect(cache.renewIn('x')).toBe(40_000);
    now += 41_000; // within the margin: renewed
    expect(cache.peek('x')).toBeNull();
    const c = await cache.get('x');
    expect(c).not.toBe(a);
    expect(fetcher).toHaveBeenCalledTimes(3);
  });

  it('takes URLs from the upload answer and forgets on invalidate', async () => {
    const fetcher = vi.fn(async () => ({ url: '/fresh', expires_at: Date.now() + 600_000 }));
    const cache = new SignedUrlCache(fetcher, { base: 'http://h' });
    cache.put('y', false, '/seeded', Date.now() + 600_000);
    expect(await cache.get('y')).toBe('http://h/seeded');
    cache.invalidate('y');
    expect(await cache.get('y')).toBe('http://h/fresh');
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failed ask', async () => {
    let fail = true;
    const cache = new SignedUrlCache(async () => {
      if (fail) throw new Error('forbidden');
      return { url: 'https://cdn/x', expires_at: Date.now() + 600_000 };
    });
    await expect(cache.get('z')).rejects.toThrow('forbidden');
    fail = false;
    expect(await cache.get('z')).toBe('https://cdn/x');
  });
});

describe('media formatting', () => {
  it('formats sizes, durations and boxes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(4300)).toBe('4.2 KB');
    expect(formatBytes(13 * 1024 * 1024)).toBe('13 MB');
    expect(formatDuration(65_400)).toBe('1:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    expect(formatDuration(null)).toBe('0:00');
    expect(fitBox(640, 480)).toEqual({ width: 320, height: 240 });
    expect(fitBox(100, 50)).toEqual({ width: 100, height: 60 });
    expect(fitBox(300, 3000)).toEqual({ width: 80, height: 320 });
  });
});
