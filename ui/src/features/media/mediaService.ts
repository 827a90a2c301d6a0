// Media for the signed-in app: the signed-URL cache and the uploads in progress (file → upload
// with progress → `send`), with cancel and retry.

import type { ConfabClient, Target, UploadResponse } from '../../client';
import { kindOf, uploadBlob, uploadReducer, type UploadAction, type UploadError, type UploadItem, type UploadState } from './uploads';
import { SignedUrlCache } from './urlCache';

let seq = 0;

export class MediaService {
  readonly urls: SignedUrlCache;
  private state: UploadState = [];
  private version = 0;
  private listeners = new Set<() => void>();
  private files = new Map<string, { blob: Blob; target: Target; replyTo: number | null }>();
  private aborts = new Map<string, () => void>();

  constructor(private readonly client: ConfabClient) {
    this.urls = new SignedUrlCache((media_id, thumbnail) => client.request('media_url', { media_id, thumbnail }), {
      base: client.connection.serverUrl,
    });
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getVersion = (): number => this.version;

  uploads(conversationKey: string): UploadItem[] {
    return this.state.filter((u) => u.conversationKey === conversationKey && u.status !== 'done' && u.status !== 'cancelled');
  }

  private dispatch(a: UploadAction): void {
    const next = uploadReducer(this.state, a);
    if (next === this.state) return;
    this.state = next;
    this.version++;
    for (const l of [...this.listeners]) l();
  }

  private item(id: string): UploadItem | undefined {
    return this.state.find((u) => u.id === id);
  }

  /** Uploads a file (or a recording) and sends it to `target` once stored. */
  add(blob: Blob, name: string, target: Target, conversationKey: string, opts: { kind?: UploadItem['kind']; replyTo?: number | null } = {}): string {
    const id = `up${++seq}`;
    const mime = blob.type || 'application/octet-stream';
    const kind = opts.kind ?? kindOf(mime);
    const previewUrl = kind === 'image' && typeof URL.createObjectURL === 'function' ? URL.createObjectURL(blob) : undefined;
    this.files.set(id, { blob, target, replyTo: opts.replyTo ?? null });
    this.dispatch({ type: 'add', item: { id, conversationKey, name, size: blob.size, mime, kind, loaded: 0, status: 'uploading', previewUrl } });
    void this.run(id);
    return id;
  }

  private async run(id: string): Promise<void> {
    const u = this.item(id);
    const f = this.files.get(id);
    if (!u || !f) return;
    if (u.status === 'uploading') {
      const h = uploadBlob(this.client.connection.serverUrl, this.client.connection.token, f.blob, {
        kind: u.kind,
        name: u.name,
        onProgress: (loaded) => this.dispatch({ type: 'progress', id, loaded }),
      });
      this.aborts.set(id, h.abort);
      let r: UploadResponse;
      try {
        r = await h.promise;
      } catch (e) {
        const code = (e as UploadError).code ?? 'network';
        if (code !== 'cancelled') this.dispatch({ type: 'failed', id, error: code });
        return;
      } finally {
        this.aborts.delete(id);
      }
      const mediaId = 'media' in r.content ? r.content.media.id : null;
      if (mediaId) {
        this.urls.put(mediaId, false, r.url, r.expires_at);
        if (r.thumbnail_url) this.urls.put(mediaId, true, r.thumbnail_url, r.expires_at);
      }
      this.dispatch({ type: 'uploaded', id, content: r.content });
    }
    const ready = this.item(id);
    if (!ready?.content || ready.status !== 'sending') return;
    // From here the send is the client's: a failed send shows (and retries) like any message.
    this.client.send(f.target, ready.content, { replyTo: f.replyTo });
    this.dispatch({ type: 'sent', id });
    this.release(id);
  }

  cancel(id: string): void {
    this.aborts.get(id)?.();
    this.dispatch({ type: 'cancel', id });
    this.release(id);
  }

  retry(id: string): void {
    this.dispatch({ type: 'retry', id });
    void this.run(id);
  }

  private release(id: string): void {
    const u = this.item(id);
    if (u?.previewUrl) URL.revokeObjectURL(u.previewUrl);
    this.files.delete(id);
    this.dispatch({ type: 'remove', id });
  }

  dispose(): void {
    for (const a of this.aborts.values()) a();
    this.aborts.clear();
    this.listeners.clear();
  }
}
