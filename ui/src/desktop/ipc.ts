// The Tauri bridge without a package: the shell injects `__TAURI_INTERNALS__` into every page
// it loads, and `__CONFAB_DESKTOP__` (the server this run uses) before the page's scripts run.
// In a browser neither exists and every function here is a no-op.

interface TauriInternals {
  invoke<T>(cmd: string, args?: unknown, options?: { headers?: Record<string, string> }): Promise<T>;
  transformCallback(cb: (payload: unknown) => void, once?: boolean): number;
}

/** What the shell tells the page before it starts. */
export interface DesktopBoot {
  serverUrl: string;
  firstRun: boolean;
}

type DesktopWindow = Window & { __TAURI_INTERNALS__?: TauriInternals; __CONFAB_DESKTOP__?: DesktopBoot };

function internals(): TauriInternals | undefined {
  return typeof window === 'undefined' ? undefined : (window as DesktopWindow).__TAURI_INTERNALS__;
}

/** True inside the Confab desktop app. */
export function isDesktop(): boolean {
  return internals() !== undefined && desktopBoot() !== null;
}

export function desktopBoot(): DesktopBoot | null {
  return typeof window === 'undefined' ? null : ((window as DesktopWindow).__CONFAB_DESKTOP__ ?? null);
}

/** The server the desktop app is set to, or null in a browser. */
export function desktopServerUrl(): string | null {
  return desktopBoot()?.serverUrl ?? null;
}

export function invoke<T>(cmd: string, args?: unknown, options?: { headers?: Record<string, string> }): Promise<T> {
  const t = internals();
  if (!t) return Promise.reject(new Error('not in the desktop app'));
  return t.invoke<T>(cmd, args, options);
}

/** Listens to an event the shell emits; returns the function that stops listening. */
export function listen<T>(event: string, handler: (payload: T) => void): () => void {
  const t = internals();
  if (!t) return () => {};
  const handlerId = t.transformCallback((e) => handler((e as { payload: T }).payload));
  const id = t.invoke<number>('plugin:event|listen', { event, target: { kind: 'Any' }, handler: handlerId });
  return () => {
    void id.then((eventId) => t.invoke('plugin:event|unlisten', { event, eventId })).catch(() => {});
  };
}
