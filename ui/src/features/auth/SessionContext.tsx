// Who is signed in, and the client bound to that session. A terminal close from the server
// (session revoked, token invalid) signs out with a reason shown on the sign-in screen.

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ConfabClient, login, normalizeServerUrl, register } from '../../client';
import { deviceName, loadSession, saveServerUrl, saveSession, type StoredSession } from './session';

export type SignOutReason = 'revoked' | 'expired' | null;

interface SessionValue {
  session: StoredSession | null;
  client: ConfabClient | null;
  signedOutReason: SignOutReason;
  signIn(serverUrl: string, username: string, password: string): Promise<void>;
  signUp(serverUrl: string, username: string, password: string, displayName: string): Promise<void>;
  signOut(): Promise<void>;
  updateUser(user: StoredSession['user']): void;
}

const Ctx = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<StoredSession | null>(loadSession);
  const [reason, setReason] = useState<SignOutReason>(null);

  const [client, setClient] = useState<ConfabClient | null>(null);
  // A sign-out from here is not a revocation to report.
  const signingOut = useRef(false);

  // One client per token, created and disposed with it (StrictMode-safe).
  const serverUrl = session?.serverUrl;
  const token = session?.token;
  useEffect(() => {
    if (!serverUrl || !token) {
      setClient(null);
      return;
    }
    const c = new ConfabClient({ serverUrl, token });
    c.start();
    const off = c.events.on('connection', (st) => {
      if (st.status === 'closed') {
        if (signingOut.current) return;
        saveSession(null);
        setReason(st.terminal === 'token_expired' ? 'expired' : 'revoked');
        setSession(null);
      }
    });
    if (import.meta.env.DEV || localStorage.getItem('confab.debug') === '1') {
      (window as unknown as { __confab?: unknown }).__confab = { client: c };
    }
    setClient(c);
    return () => {
      off();
      c.dispose();
    };
  }, [serverUrl, token]);

  const signIn = useCallback(async (serverUrl: string, username: string, password: string) => {
    const url = normalizeServerUrl(serverUrl);
    const r = await login(url, { username, password, device_name: deviceName() });
    const s: StoredSession = { serverUrl: url, token: r.token, deviceId: r.device_id, expiresAt: r.expires_at, user: r.user };
    saveServerUrl(url);
    saveSession(s);
    setReason(null);
    signingOut.current = false;
    setSession(s);
  }, []);

  const signUp = useCallback(
    async (serverUrl: string, username: string, password: string, displayName: string) => {
      const url = normalizeServerUrl(serverUrl);
      await register(url, { username, password, ...(displayName.trim() ? { display_name: displayName.trim() } : {}) });
      await signIn(url, username, password);
    },
    [signIn],
  );

  const signOut = useCallback(async () => {
    signingOut.current = true;
    if (client) {
      try {
        await client.request('logout', undefined, { timeoutMs: 3000 });
      } catch {
        // Signing out locally still works when the server cannot be told.
      }
    }
    saveSession(null);
    setReason(null);
    setSession(null);
  }, [client]);

  const updateUser = useCallback((user: StoredSession['user']) => {
    setSession((s) => {
      if (!s) return s;
      const next = { ...s, user };
      saveSession(next);
      return next;
    });
  }, []);

  const value = useMemo(
    () => ({ session, client, signedOutReason: reason, signIn, signUp, signOut, updateUser }),
    [session, client, reason, signIn, signUp, signOut, updateUser],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

/** The client of the signed-in session (only inside the signed-in app). */
export function useClient(): ConfabClient {
  const { client } = useSession();
  if (!client) throw new Error('useClient without a session');
  return client;
}
