import { afterEach, describe, expect, it, vi } from 'vitest';
import { desktopServerUrl, invoke, isDesktop, listen } from './ipc';

const g = globalThis as unknown as { window?: unknown };

afterEach(() => {
  delete g.window;
});

describe('desktop bridge', () => {
  it('does nothing in a browser', async () => {
    expect(isDesktop()).toBe(false);
    expect(desktopServerUrl()).toBeNull();
    await expect(invoke('get_settings')).rejects.toThrow('not in the desktop app');
    expect(() => listen('desktop://drop', () => {})()).not.toThrow();
  });

  it('calls the shell and routes its events', async () => {
    const callbacks = new Map<number, (p: unknown) => void>();
    const calls: Array<[string, unknown]> = [];
    g.window = {
      __CONFAB_DESKTOP__: { serverUrl: 'http://127.0.0.1:9000', firstRun: false },
      __TAURI_INTERNALS__: {
        transformCallback: (cb: (p: unknown) => void) => {
          callbacks.set(callbacks.size + 1, cb);
          return callbacks.size;
        },
        invoke: vi.fn(async (cmd: string, args: unknown) => {
          calls.push([cmd, args]);
          return cmd === 'plugin:event|listen' ? 42 : { count: 3 };
        }),
      },
    };
    expect(isDesktop()).toBe(true);
    expect(desktopServerUrl()).toBe('http://127.0.0.1:9000');
    expect(await invoke('set_unread', { count: 3 })).toEqual({ count: 3 });

    const got: unknown[] = [];
    const off = listen<{ conversation_id: number }>('desktop://open-conversation', (p) => got.push(p));
    expect(calls[1]).toEqual(['plugin:event|listen', { event: 'desktop://open-conversation', target: { kind: 'Any' }, handler: 1 }]);
    callbacks.get(1)!({ event: 'desktop://open-conversation', payload: { conversation_id: 7 } });
    expect(got).toEqual([{ conversation_id: 7 }]);
    off();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls[2]).toEqual(['plugin:event|unlisten', { event: 'desktop://open-conversation', eventId: 42 }]);
  });
});
