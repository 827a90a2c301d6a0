// The transport carries JSON text frames between the client and a Confab server. The client
// only depends on this interface, so tests and other runtimes can plug in their own.

export interface TransportHandlers {
  /** The connection is open and frames may be sent. */
  onOpen(): void;
  /** One text frame arrived. */
  onMessage(text: string): void;
  /** The connection ended (also when it never opened). `code` is the WebSocket close code. */
  onClose(code: number, reason: string): void;
}

export interface Transport {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export interface TransportFactory {
  /** Start one connection attempt to `url`; `handlers` hear about it until it closes. */
  open(url: string, handlers: TransportHandlers): Transport;
}

type WebSocketCtor = new (url: string) => WebSocket;

/** The browser's (or any WHATWG-compatible) WebSocket. */
export class WebSocketTransportFactory implements TransportFactory {
  private readonly ctor: WebSocketCtor;

  constructor(ctor?: WebSocketCtor) {
    const found = ctor ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!found) throw new Error('no WebSocket implementation available');
    this.ctor = found;
  }

  open(url: string, handlers: TransportHandlers): Transport {
    const ws = new this.ctor(url);
    let closed = false;
    const finish = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      handlers.onClose(code, reason);
    };
    ws.onopen = () => handlers.onOpen();
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data === 'string') handlers.onMessage(e.data);
    };
    ws.onclose = (e: CloseEvent) => finish(e.code, e.reason);
    // An error is always followed by close; nothing to do here but keep it from surfacing.
    ws.onerror = () => {};
    return {
      send: (text) => ws.send(text),
      close: (code, reason) => {
        try {
          ws.close(code, reason);
        } catch {
          ws.close();
        }
        // Report the close right away: the server's close frame may never come.
        finish(code ?? 1000, reason ?? '');
      },
    };
  }
}
