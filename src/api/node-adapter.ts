/**
 * Runs a fetch-style handler on node:http (the edge adapter; everything else is web-standard).
 * Loopback by default; request bodies bounded; slow clients cut by header and request timeouts;
 * requests in progress bounded (handlers waiting on a slow disk or a busy ledger hold memory and
 * sockets; past the bound a request is refused at once). The bound does not help when the event loop
 * itself is saturated: then requests wait in the socket queues before any handler runs (2,000 100-row
 * reads a second offered to a gate that serves ~400 wait seconds, see bench/gate.ts).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { SiosError } from '../errors.ts';

export interface ServeOptions {
  host?: string;
  port?: number;
  maxBodyBytes?: number;
  /**
   * Most requests handled at once (default 256). One more is answered at once with 429
   * ERR_RATE_LIMITED and `Retry-After: 1`, and its handler is not run: it never reaches the gate, so
   * nothing is sealed for it.
   */
  maxInFlight?: number;
  /** Optional TLS with the operator's certificate and key (PEM). TLS 1.3 only. */
  tls?: { cert: string | Uint8Array; key: string | Uint8Array };
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function serve(handler: (r: Request) => Promise<Response>, o: ServeOptions = {}): Promise<RunningServer> {
  const host = o.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host) && process.env['SIOS_ALLOW_NON_LOOPBACK'] !== '1') {
    throw new SiosError('ERR_FORBIDDEN', `refusing to listen on ${host}: SIOS serves on loopback only; put an operator-controlled TLS proxy in front, or set SIOS_ALLOW_NON_LOOPBACK=1 deliberately`);
  }
  const max = o.maxBodyBytes ?? 1024 * 1024;
  const maxInFlight = o.maxInFlight ?? 256;
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) throw new SiosError('ERR_INPUT', `maxInFlight must be a whole number of at least 1, not ${String(maxInFlight)}`);
  let inFlight = 0;
  const common = { headersTimeout: 10_000, requestTimeout: 30_000, maxHeaderSize: 16 * 1024 };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max && !aborted) {
        aborted = true;
        res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'ERR_TOO_LARGE', message: `request body over ${max} bytes` } }));
        req.destroy();
      } else if (!aborted) chunks.push(c);
    });
    req.on('end', () => {
      if (aborted) return;
      if (inFlight >= maxInFlight) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' })
          .end(JSON.stringify({ error: { code: 'ERR_RATE_LIMITED', message: `server busy: ${inFlight} requests in progress (its limit); retry in 1 s` } }));
        return;
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v); else if (Array.isArray(v)) headers.set(k, v.join(', '));
      const hostHeader = `${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
      const init: RequestInit = { method: req.method ?? 'GET', headers };
      if (req.method !== 'GET' && req.method !== 'HEAD') init.body = Buffer.concat(chunks);
      let request: Request;
      try { request = new Request(`${o.tls ? 'https' : 'http'}://${hostHeader}${req.url ?? '/'}`, init); } catch {
        res.writeHead(400).end(); return;
      }
      inFlight++;
      handler(request).then(async (r) => {
        const h: Record<string, string> = {};
        r.headers.forEach((v, k) => { h[k] = v; });
        const body = Buffer.from(await r.arrayBuffer());
        res.writeHead(r.status, h);
        res.end(body);
      }).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"ERR_INTERNAL","message":"internal error"}}');
        else res.destroy();
      }).finally(() => { inFlight--; });
    });
  };
  const server = o.tls
    ? https.createServer({ ...common, cert: Buffer.from(o.tls.cert), key: Buffer.from(o.tls.key), minVersion: 'TLSv1.3' }, onRequest)
    : http.createServer(common, onRequest);
  const scheme = o.tls ? 'https' : 'http';
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(o.port ?? 0, host, () => resolve()); });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${scheme}://${host === '::1' ? '[::1]' : host}:${port}`,
    port,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
