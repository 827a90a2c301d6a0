// The HTTP account endpoints: register and log in.

import { ClientError } from './errors';
import type { LoginRequest, LoginResponse, RegisterRequest, UserPublic, WireError } from './protocol';

/** Normalises what a person typed as the server address: scheme added, trailing slash cut. */
export function normalizeServerUrl(input: string): string {
  let s = input.trim();
  if (!s) throw new ClientError('invalid_argument', 'empty server address');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `http://${s}`;
  const u = new URL(s);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ClientError('invalid_argument', 'the server address must use http or https');
  }
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

async function post<T>(serverUrl: string, path: string, body: unknown, fetchImpl: typeof fetch): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(`${serverUrl}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new ClientError('network', e instanceof Error ? e.message : 'network error');
  }
  let json: unknown = null;
  try {
    json = await res.json();
  } catch {
    // Not JSON: handled below.
  }
  if (!res.ok) {
    const err = (json as { error?: WireError } | null)?.error;
    if (err) throw ClientError.fromWire(err, res.status);
    throw new ClientError(res.status >= 500 ? 'unavailable' : 'bad_request', `HTTP ${res.status}`, { status: res.status });
  }
  return json as T;
}

export function register(serverUrl: string, req: RegisterRequest, fetchImpl: typeof fetch = fetch): Promise<UserPublic> {
  return post(serverUrl, '/api/v1/register', req, fetchImpl);
}

export function login(serverUrl: string, req: LoginRequest, fetchImpl: typeof fetch = fetch): Promise<LoginResponse> {
  return post(serverUrl, '/api/v1/login', req, fetchImpl);
}
