// Starts confab-server for the end-to-end test: a temporary data directory, a free port, and
// the built UI — served by the server itself with --web-dir when it supports it, otherwise by
// a small static server here that forwards /api and /ws to the confab-server port (same
// origin, so the UI's default server address works).

import { spawn, execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function waitForHttp(url, ms = 30_000) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = new Error(`HTTP ${r.status}`);
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`server at ${url} did not come up: ${last}`);
}

export function supportsWebDir(bin) {
  try {
    return execFileSync(bin, ['--help'], { encoding: 'utf8' }).includes('--web-dir');
  } catch {
    return false;
  }
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Serves `dir` and forwards /api/* and the /ws upgrade to 127.0.0.1:`backendPort`. */
export function startStaticProxy(dir, backendPort, port) {
  const root = resolve(dir);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/api/') || url.pathname === '/healthz') {
      const up = http.request(
        { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(up);
      return;
    }
    let file = normalize(join(root, decodeURIComponent(url.pathname)));
    if (!file.startsWith(root + sep) && file !== root) {
      res.writeHead(403);
      res.end();
      return;
    }
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  server.on('upgrade', (req, socket, head) => {
    const up = net.connect(backendPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(lines.join('\r\n') + '\r\n\r\n');
      if (head?.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    const end = () => {
      up.destroy();
      socket.destroy();
    };
    up.on('error', end);
    socket.on('error', end);
    up.on('close', () => socket.destroy());
    socket.on('close', () => up.destroy());
  });
  return new Promise((res) => server.listen(port, '127.0.0.1', () => res(server)));
}

/**
 * Starts the server; returns { url, stop(), log() }. `url` is where the browser opens the UI.
 */
export async function startConfab({ bin, webDir, env = {} }) {
  if (!existsSync(bin)) throw new Error(`confab-server binary not found at ${bin} (build it with cargo build -p confab-server, or set CONFAB_SERVER_BIN)`);
  if (!existsSync(join(webDir, 'index.html'))) throw new Error(`${webDir}/index.html missing: run npm run build first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'confab-e2e-'));
  const port = await freePort();
  const withWebDir = supportsWebDir(bin);
  const args = ['--bind', `127.0.0.1:${port}`, '--data-dir', dataDir];
  if (withWebDir) args.push('--web-dir', resolve(webDir));
  let output = '';
  let child;
  let exited;
  const launch = async () => {
    child = spawn(bin, args, { env: { ...process.env, CONFAB_LOG: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    exited = new Promise((r) => child.on('exit', r));
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  };
  const kill = async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  let proxy = null;
  let url = `http://127.0.0.1:${port}/`;
  if (!withWebDir) {
    const uiPort = await freePort();
    proxy = await startStaticProxy(webDir, port, uiPort);
    url = `http://127.0.0.1:${uiPort}/`;
  }
  return {
    url,
    apiPort: port,
    mode: withWebDir ? 'web-dir' : 'static-proxy',
    log: () => output,
    /** Stops the server (same port and data); `start()` brings it back. */
    down: kill,
    up: launch,
    async stop() {
      proxy?.closeAllConnections?.();
      proxy?.close();
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
