// One logical connection to a Confab server over a replaceable transport: request/response by
// id with timeouts, typed events, keep-alive pings and automatic reconnection with backoff.

import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { Emitter } from './emitter';
import { ClientError } from './errors';
import {
  CloseCode,
  PROTOCOL_VERSION,
  shouldReconnect,
  type BodylessRequestType,
  type ErrorCode,
  type Event,
  type Hello,
  type RequestData,
  type RequestType,
  type ResponseMap,
  type WireError,
} from './protocol';
import type { Transport, TransportFactory } from './transport';
import { WebSocketTransportFactory } from './transport';

export type ConnectionStatus =
  /** Not started, or stopped on purpose. */
  | 'idle'
  /** A connection attempt is under way (socket opening or waiting for `hello`). */
  | 'connecting'
  /** Connected and authenticated: requests flow. */
  | 'connected'
  /** The connection dropped; the next attempt starts at `nextRetryAt`. */
  | 'waiting'
  /** The server refused these credentials for good (see `terminal`). */
  | 'closed';

export interface ConnectionState {
  status: ConnectionStatus;
  /** Failed attempts since the last successful connection. */
  attempt: number;
  nextRetryAt: number | null;
  /** Why the connection ended for good, when `status` is `closed`. */
  terminal: ErrorCode | 'session_revoked' | 'auth_failed' | 'unsupported_version' | null;
  /** Set once a connection succeeded at least once. */
  everConnected: boolean;
}

export interface ConnectionOptions {
  /** The server's HTTP(S) base address, e.g. `https://chat.example.com`. */
  serverUrl: string;
  token: string;
  transport?: TransportFactory;
  /** How long a request waits for its answer (including while disconnected). */
  requestTimeoutMs?: number;
  /** How long an attempt may take from opening the socket to the `hello`. */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Ping period; by default a third of the server's idle timeout, within 5–25 s. */
  pingIntervalMs?: number;
}

export interface ConnectionEvents extends Record<string, unknown> {
  state: ConnectionState;
  /** Every successful (re)connection, before queued requests are flushed. */
  hello: Hello;
  /** A pushed event (the `hello` is reported separately). */
  event: Event;
}

interface Pending {
  type: string;
  frame: string;
  resolve: (body: unknown) => void;
  reject: (e: ClientError) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Written on the current socket (an answer is awaited there). */
  sent: boolean;
}

/** Turns `https://host` into `wss://host/ws?v=1`. */
export function websocketUrl(serverUrl: string, token?: string): string {
  const u = new URL(serverUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = u.pathname.replace(/\/+$/, '') + '/ws';
  u.search = '';
  u.searchParams.set('v', String(PROTOCOL_VERSION));
  if (token) u.searchParams.set('token', token);
  return u.toString();
}

export class Connection {
  readonly events = new Emitter<ConnectionEvents>();
  private readonly opts: Required<Omit<ConnectionOptions, 'pingIntervalMs' | 'transport'>> & {
    pingIntervalMs?: number;
  };
  private readonly transportFactory: TransportFactory;
  private transport: Transport | null = null;
  private attemptSeq = 0;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private authId: number | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private helloTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private opened = false;
  private authByFrame = false;
  private _hello: Hello | null = null;
  private _state: ConnectionState = {
    status: 'idle',
    attempt: 0,
    nextRetryAt: null,
    terminal: null,
    everConnected: false,
  };

  constructor(options: ConnectionOptions) {
    this.opts = {
      requestTimeoutMs: 15_000,
      connectTimeoutMs: 15_000,
      backoff: DEFAULT_BACKOFF,
      ...options,
    };
    this.transportFactory = options.transport ?? new WebSocketTransportFactory();
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The server's base address (for HTTP calls next to the socket, e.g. media uploads). */
  get serverUrl(): string {
    return this.opts.serverUrl;
  }

  /** The bearer token this connection authenticates with. */
  get token(): string {
    return this.opts.token;
  }

  /** The `hello` of the current connection (null while disconnected). */
  get hello(): Hello | null {
    return this._hello;
  }

  start(): void {
    if (this._state.status !== 'idle') return;
    this.connect();
  }

  /** Ends the connection and stops reconnecting; pending requests fail with `closed`. */
  stop(): void {
    this.clearTimers();
    const t = this.transport;
    this.transport = null;
    this._hello = null;
    t?.close(1000, 'client stopped');
    this.failAll(new ClientError('closed', 'the connection was closed'), true);
    this.setState({ status: 'idle', nextRetryAt: null });
  }

  /** Skip the remaining backoff wait (e.g. the browser came back online). */
  retryNow(): void {
    if (this._state.status === 'waiting') {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.connect();
    }
  }

  request<K extends BodylessRequestType>(type: K, data?: undefined, opts?: { timeoutMs?: number }): Promise<ResponseMap[K]>;
  request<K extends RequestType>(type: K, data: RequestData<K>, opts?: { timeoutMs?: number }): Promise<ResponseMap[K]>;
  request<K extends RequestType>(type: K, data?: RequestData<K>, opts?: { timeoutMs?: number }): Promise<ResponseMap[K]> {
    if (this._state.status === 'closed' || this._state.status === 'idle') {
      return Promise.reject(new ClientError('closed', 'not connected to the server'));
    }
    const id = this.nextId++;
    const frame = JSON.stringify(data === undefined ? { id, type } : { id, type, data });
    return new Promise<ResponseMap[K]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError('timeout', `no answer to "${type}" in time`));
      }, opts?.timeoutMs ?? this.opts.requestTimeoutMs);
      const p: Pending = { type, frame, resolve: resolve as (b: unknown) => void, reject, timer, sent: false };
      this.pending.set(id, p);
      if (this._state.status === 'connected') this.write(p);
    });
  }

  // ---- internals ----

  private setState(patch: Partial<ConnectionState>): void {
    this._state = { ...this._state, ...patch };
    this.events.emit('state', this._state);
  }

  private connect(): void {
    this.clearTimers();
    const attempt = ++this.attemptSeq;
    this.opened = false;
    const byFrame = this.authByFrame;
    this.setState({ status: 'connecting', nextRetryAt: null });
    const url = websocketUrl(this.opts.serverUrl, byFrame ? undefined : this.opts.token);
    const current = () => attempt === this.attemptSeq;
    try {
      this.transport = this.transportFactory.open(url, {
        onOpen: () => {
          if (!current()) return;
          this.opened = true;
          if (byFrame) {
            this.authId = this.nextId++;
            this.transport?.send(JSON.stringify({ id: this.authId, type: 'auth', data: { token: this.opts.token } }));
          }
        },
        onMessage: (text) => {
          if (current()) this.onFrame(text);
        },
        onClose: (code, reason) => {
          if (current()) this.onClosed(code, reason);
        },
      });
    } catch {
      this.transport = null;
      this.scheduleRetry();
      return;
    }
    this.helloTimer = setTimeout(() => {
      if (current() && this._state.status === 'connecting') this.transport?.close(4000, 'connect timeout');
    }, this.opts.connectTimeoutMs);
  }

  private onFrame(text: string): void {
    let frame: { id?: number | null; ok?: unknown; error?: WireError; event?: string; data?: unknown };
    try {
      frame = JSON.parse(text);
    } catch {
      console.warn('confab: ignoring a frame that is not JSON');
      return;
    }
    if (typeof frame.event === 'string') {
      const ev = frame as unknown as Event;
      if (ev.event === 'hello') this.onHello(ev.data);
      else this.events.emit('event', ev);
      return;
    }
    if (typeof frame.id !== 'number') {
      if (frame.error) console.warn('confab: server error without id', frame.error);
      return;
    }
    if (frame.id === this.authId) {
      this.authId = null;
      if (frame.error) this.onAuthRefused(frame.error);
      else this.onHello(frame.ok as Hello);
      return;
    }
    const p = this.pending.get(frame.id);
    if (!p) return;
    this.pending.delete(frame.id);
    clearTimeout(p.timer);
    if (frame.error) p.reject(ClientError.fromWire(frame.error));
    else p.resolve(frame.ok ?? {});
  }

  private onHello(hello: Hello): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
    this._hello = hello;
    this.authByFrame = false;
    this.setState({ status: 'connected', attempt: 0, nextRetryAt: null, terminal: null, everConnected: true });
    this.startPinging(hello);
    this.events.emit('hello', hello);
    for (const p of this.pending.values()) if (!p.sent) this.write(p);
  }

  private onAuthRefused(error: WireError): void {
    const terminalCodes: ErrorCode[] = ['invalid_token', 'token_expired', 'token_revoked', 'unauthenticated'];
    if (terminalCodes.includes(error.code)) {
      this.terminate(error.code);
    }
  }

  private terminate(reason: NonNullable<ConnectionState['terminal']>): void {
    this.clearTimers();
    const t = this.transport;
    this.transport = null;
    this._hello = null;
    this.attemptSeq++;
    t?.close(1000, 'terminal');
    this.failAll(new ClientError('closed', 'the server ended this session'), true);
    this.setState({ status: 'closed', terminal: reason, nextRetryAt: null });
  }

  private onClosed(code: number, _reason: string): void {
    this.transport = null;
    this._hello = null;
    this.stopPinging();
    if (!shouldReconnect(code)) {
      const reason =
        code === CloseCode.SESSION_REVOKED
          ? 'session_revoked'
          : code === CloseCode.UNSUPPORTED_VERSION
            ? 'unsupported_version'
            : 'auth_failed';
      this.terminate(reason);
      return;
    }
    // A socket that never opened may have been refused at the handshake (a bad token is
    // answered with HTTP 401, which browsers do not expose): authenticating with a frame on
    // the next attempt gets a typed answer.
    if (!this.opened) this.authByFrame = true;
    this.failAll(new ClientError('connection_lost', 'the connection was lost'), false);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const attempt = this._state.attempt;
    const delay = backoffDelay(attempt, this.opts.backoff);
    this.setState({ status: 'waiting', attempt: attempt + 1, nextRetryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private write(p: Pending): void {
    try {
      this.transport?.send(p.frame);
      p.sent = true;
    } catch {
      // The close handler follows.
    }
  }

  /** Rejects requests. Unsent ones stay queued for the next connection unless `all`. */
  private failAll(error: ClientError, all: boolean): void {
    for (const [id, p] of this.pending) {
      if (all || p.sent) {
        clearTimeout(p.timer);
        this.pending.delete(id);
        p.reject(error);
      }
    }
  }

  private startPinging(hello: Hello): void {
    this.stopPinging();
    const period =
      this.opts.pingIntervalMs ?? Math.min(25_000, Math.max(5_000, Math.floor(hello.idle_timeout_ms / 3)));
    this.pingTimer = setInterval(() => {
      this.request('ping').catch((e: ClientError) => {
        // A ping without an answer means a dead connection: drop it and reconnect.
        if (e.code === 'timeout' && this._state.status === 'connected') this.transport?.close(4000, 'ping timeout');
      });
    }, period);
  }

  private stopPinging(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.retryTimer = null;
    this.helloTimer = null;
    this.stopPinging();
  }
}
