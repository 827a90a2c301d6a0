// Uploads in progress: a small state machine per file (queued → uploading → sending → done,
// with failed and cancelled on the way) kept in a store the composer and the chat watch.

import type { Content, MediaKind, UploadResponse } from '../../client';

export type UploadStatus = 'uploading' | 'sending' | 'failed' | 'cancelled' | 'done';

export interface UploadItem {
  id: string;
  conversationKey: string;
  name: string;
  size: number;
  mime: string;
  kind: MediaKind;
  /** Bytes sent so far. */
  loaded: number;
  status: UploadStatus;
  /** Error code when failed. */
  error?: string;
  /** Set once the upload finished: what to send. */
  content?: Content;
  /** A local preview (object URL) for pictures. */
  previewUrl?: string;
}

export type UploadAction =
  | { type: 'add'; item: UploadItem }
  | { type: 'progress'; id: string; loaded: number }
  | { type: 'uploaded'; id: string; content: Content }
  | { type: 'sent'; id: string }
  | { type: 'failed'; id: string; error: string }
  | { type: 'cancel'; id: string }
  | { type: 'retry'; id: string }
  | { type: 'remove'; id: string };

export type UploadState = UploadItem[];

/** Which `kind=` to claim for a file, from its type (the server checks the content). */
export function kindOf(mime: string): MediaKind {
  if (/^image\/(png|jpeg|gif|webp)$/i.test(mime)) return 'image';
  if (mime.startsWith('audio/')) return 'voice';
  if (/^video\/(mp4|webm|quicktime)$/i.test(mime)) return 'video';
  return 'file';
}

export function uploadReducer(state: UploadState, a: UploadAction): UploadState {
  if (a.type === 'add') return [...state, a.item];
  const i = state.findIndex((u) => u.id === a.id);
  if (i < 0) return state;
  const u = state[i];
  let next: UploadItem | null = u;
  switch (a.type) {
    case 'progress':
      if (u.status !== 'uploading') return state;
      next = { ...u, loaded: Math.min(u.size, Math.max(u.loaded, a.loaded)) };
      break;
    case 'uploaded':
      if (u.status !== 'uploading') return state;
      next = { ...u, loaded: u.size, status: 'sending', content: a.content, error: undefined };
      break;
    case 'sent':
      if (u.status !== 'sending') return state;
      next = { ...u, status: 'done' };
      break;
    case 'failed':
      if (u.status !== 'uploading' && u.status !== 'sending') return state;
      next = { ...u, status: 'failed', error: a.error };
      break;
    case 'cancel':
      if (u.status !== 'uploading' && u.status !== 'failed') return state;
      next = { ...u, status: 'cancelled' };
      break;
    case 'retry':
      if (u.status !== 'failed') return state;
      // With the content known only the send is repeated; otherwise the upload starts over.
      next = u.content ? { ...u, status: 'sending', error: undefined } : { ...u, status: 'uploading', loaded: 0, error: undefined };
      break;
    case 'remove':
      next = null;
      break;
  }
  if (next === u) return state;
  const out = state.slice();
  if (next) out[i] = next;
  else out.splice(i, 1);
  return out;
}

export function progressOf(u: UploadItem): number {
  return u.size > 0 ? Math.min(1, u.loaded / u.size) : u.status === 'uploading' ? 0 : 1;
}

export interface UploadHandle {
  promise: Promise<UploadResponse>;
  abort: () => void;
}

export interface UploadError {
  code: string;
  status: number;
}

/** `POST /api/v1/media` with progress (XMLHttpRequest: fetch cannot report upload progress). */
export function uploadBlob(
  serverUrl: string,
  token: string,
  blob: Blob,
  opts: { kind?: MediaKind; name?: string; onProgress?: (loaded: number) => void },
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const q = new URLSearchParams();
  if (opts.kind) q.set('kind', opts.kind);
  if (opts.name) q.set('name', opts.name);
  const promise = new Promise<UploadResponse>((resolve, reject) => {
    xhr.open('POST', `${serverUrl.replace(/\/+$/, '')}/api/v1/media?${q.toString()}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    if (blob.type) xhr.setRequestHeader('Content-Type', blob.type);
    xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON.
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body as UploadResponse);
      else {
        const code = (body as { error?: { code?: string } } | null)?.error?.code ?? (xhr.status >= 500 ? 'unavailable' : 'bad_request');
        reject({ code, status: xhr.status } satisfies UploadError);
      }
    };
    xhr.onerror = () => reject({ code: 'network', status: 0 } satisfies UploadError);
    xhr.onabort = () => reject({ code: 'cancelled', status: 0 } satisfies UploadError);
    xhr.send(blob);
  });
  return { promise, abort: () => xhr.abort() };
}
