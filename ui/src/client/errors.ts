import type { ErrorCode, WireError } from './protocol';

/** Codes the client itself produces, besides the server's wire codes. */
export type LocalErrorCode = 'timeout' | 'connection_lost' | 'not_connected' | 'network' | 'closed';

/** A failed request: the server's typed error, or a local one (timeout, connection lost). */
export class ClientError extends Error {
  readonly code: ErrorCode | LocalErrorCode;
  readonly retryAfterMs?: number;
  readonly status?: number;

  constructor(code: ErrorCode | LocalErrorCode, message: string, extra?: { retryAfterMs?: number; status?: number }) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
    this.retryAfterMs = extra?.retryAfterMs;
    this.status = extra?.status;
  }

  static fromWire(e: WireError, status?: number): ClientError {
    return new ClientError(e.code, e.message, { retryAfterMs: e.retry_after_ms ?? undefined, status });
  }

  /** The request may not have reached the server: retrying (idempotently) is reasonable. */
  get transient(): boolean {
    return (
      this.code === 'timeout' ||
      this.code === 'connection_lost' ||
      this.code === 'not_connected' ||
      this.code === 'network' ||
      this.code === 'unavailable' ||
      this.code === 'internal' ||
      this.code === 'rate_limited'
    );
  }
}

export function isClientError(e: unknown): e is ClientError {
  return e instanceof ClientError;
}
