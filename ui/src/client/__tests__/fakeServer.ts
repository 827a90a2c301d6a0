import type { Transport, TransportFactory, TransportHandlers } from '../transport';
import type { Hello } from '../protocol';
import { LIMITS, ME } from './fixtures';

export interface FakeSocket {
  url: string;
  handlers: TransportHandlers;
  sent: Array<{ id: number; type: string; data?: unknown }>;
  closed: boolean;
  open(): void;
  push(frame: unknown): void;
  reply(id: number, ok: unknown): void;
  fail(id: number, code: string, message?: string): void;
  drop(code?: number): void;
}

/** A scripted server: each `open` creates a socket the test drives by hand. */
export class FakeTransportFactory implements TransportFactory {
  sockets: FakeSocket[] = [];
  onRequest?: (socket: FakeSocket, req: { id: number; type: string; data?: unknown }) => void;

  open(url: string, handlers: TransportHandlers): Transport {
    const socket: FakeSocket = {
      url,
      handlers,
      sent: [],
      closed: false,
      open: () => handlers.onOpen(),
      push: (frame) => handlers.onMessage(JSON.stringify(frame)),
      reply: (id, ok) => handlers.onMessage(JSON.stringify({ id, ok })),
      fail: (id, code, message = code) => handlers.onMessage(JSON.stringify({ id, error: { code, message } })),
      drop: (code = 1006) => {
        if (socket.closed) return;
        socket.closed = true;
        handlers.onClose(code, '');
      },
    };
    this.sockets.push(socket);
    return {
      send: (text) => {
        const req = JSON.parse(text);
        socket.sent.push(req);
        this.onRequest?.(socket, req);
      },
      close: (code = 1000) => socket.drop(code),
    };
  }

  get last(): FakeSocket {
    return this.sockets[this.sockets.length - 1];
  }
}

export function hello(): Hello {
  return { protocol: 1, server_version: 'test', user: ME, device_id: 1, server_time: 0, idle_timeout_ms: 60000, limits: LIMITS };
}

/** Lets queued promise callbacks run. */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await Promise.resolve();
}
