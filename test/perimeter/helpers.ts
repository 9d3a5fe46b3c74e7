/**
 * Test hosts for the perimeter: origin servers on loopback and inside network namespaces the test
 * creates itself (ip netns + veth). Nothing here ever addresses anything else.
 */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { PerimeterEvent, EgressAttemptEvent } from '../../src/perimeter/events.ts';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const SRC = fileURLToPath(new URL('../../src/perimeter/', import.meta.url));

export function auditLog(): { events: PerimeterEvent[]; audit: (e: PerimeterEvent) => Promise<void>; egress: () => EgressAttemptEvent[] } {
  const events: PerimeterEvent[] = [];
  return {
    events,
    audit: async (e) => { events.push(e); },
    egress: () => events.filter((e): e is EgressAttemptEvent => e.type === 'egress-attempt'),
  };
}

/** Wait until `pred` holds, polling the event loop (no wall-clock assertion: bounded by `tries`). */
export async function until(pred: () => boolean, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface Origin { readonly server: Server; readonly port: number; readonly host: string; accepted: number; readonly sockets: Set<Socket>; close(): Promise<void> }

/**
 * A minimal HTTP/1.1 origin: answers every request with a JSON body naming the peer address it
 * saw, the request line, and the body length; `/big/N` answers N bytes. One request per connection.
 * `/hold` never answers (for kill-switch tests).
 */
export async function startOrigin(host = '127.0.0.1'): Promise<Origin> {
  const sockets = new Set<Socket>();
  const o = { accepted: 0 } as { accepted: number };
  const server = createServer((s) => {
    o.accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const idx = buf.indexOf('\r\n\r\n');
      if (idx < 0) return;
      const head = buf.subarray(0, idx).toString('latin1');
      const cl = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length - idx - 4 < cl) return;
      s.removeAllListeners('data');
      const line = head.split('\r\n')[0] ?? '';
      const path = line.split(' ')[1] ?? '';
      if (path === '/hold') { s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\npartial'); return; }
      const big = /^\/big\/(\d+)$/.exec(path);
      const body = big ? Buffer.alloc(Number(big[1]), 0x61) : Buffer.from(JSON.stringify({ peer: s.remoteAddress, line, headers: head.split('\r\n').slice(1), bodyLength: cl }));
      s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
    });
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const port = (server.address() as { port: number }).port;
  return Object.assign(o, {
    server, port, host, sockets,
    close: async () => { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  });
}

export interface RawReply { readonly status: number; readonly head: string; readonly body: string; readonly reason: string }

function parseReply(text: string): RawReply {
  const idx = text.indexOf('\r\n\r\n');
  const head = idx < 0 ? text : text.slice(0, idx);
  return {
    status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0),
    head, body: idx < 0 ? '' : text.slice(idx + 4),
    reason: /\r\nX-Sios-Reason: ([^\r]*)/i.exec(head)?.[1] ?? '',
  };
}

/** Send raw bytes to the gateway and read everything until it closes. */
export function rawExchange(target: string | number, data: string | Buffer | Array<string | Buffer>, opts: { endAfterWrite?: boolean } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const s = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target);
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', (e) => { if (parts.length) resolve(parseReply(Buffer.concat(parts).toString('latin1'))); else reject(e); });
    s.on('close', () => resolve(parseReply(Buffer.concat(parts).toString('latin1'))));
    s.on('connect', () => {
      for (const d of Array.isArray(data) ? data : [data]) s.write(d);
      if (opts.endAfterWrite) s.end();
    });
  });
}

/** CONNECT through the gateway, then send one GET in the tunnel; returns the tunnel reply + origin reply. */
export function connectAndGet(target: string | number, authority: string, path = '/'): Promise<{ connect: RawReply; origin: RawReply | undefined }> {
  return new Promise((resolve, reject) => {
    const s = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target);
    let buf = Buffer.alloc(0);
    let tunnel: RawReply | undefined;
    let rest = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      if (tunnel) { rest = Buffer.concat([rest, d]); return; }
      buf = Buffer.concat([buf, d]);
      const idx = buf.indexOf('\r\n\r\n');
      if (idx < 0) return;
      tunnel = parseReply(buf.subarray(0, idx + 4).toString('latin1'));
      rest = buf.subarray(idx + 4);
      if (tunnel.status === 200) s.write(`GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
      else tunnel = parseReply(buf.toString('latin1'));
    });
    s.on('error', reject);
    s.on('close', () => {
      if (!tunnel) { resolve({ connect: parseReply(buf.toString('latin1')), origin: undefined }); return; }
      if (tunnel.status !== 200) tunnel = parseReply(Buffer.concat([buf]).toString('latin1'));
      resolve({ connect: tunnel, origin: tunnel.status === 200 ? parseReply(rest.toString('latin1')) : undefined });
    });
    s.on('connect', () => s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
  });
}

export interface Netns {
  readonly name: string;
  /** address of the root-namespace end of the veth */
  readonly hostAddr: string;
  /** address inside the namespace */
  readonly nsAddr: string;
  spawnIn(argv: string[]): ChildProcess;
  cleanup(): void;
}

/**
 * Create a network namespace joined to the root namespace by a veth pair on a /30 from
 * 198.51.100.0/24 (TEST-NET-2, RFC 5737: never routed on the internet). No default route either
 * side, so nothing can leave through it.
 */
export function createNetns(): Netns {
  const id = randomBytes(3).toString('hex');
  const name = `sios-pt-${id}`;
  const k = 4 * (1 + (randomBytes(1)[0] as number) % 60);
  const hostAddr = `198.51.100.${k + 1}`;
  const nsAddr = `198.51.100.${k + 2}`;
  const vh = `spth${id}`, vn = `sptn${id}`;
  const ip = (...a: string[]): void => { execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'pipe'] }); };
  ip('netns', 'add', name);
  try {
    ip('link', 'add', vh, 'type', 'veth', 'peer', 'name', vn);
    ip('link', 'set', vn, 'netns', name);
    ip('addr', 'add', `${hostAddr}/30`, 'dev', vh);
    ip('link', 'set', vh, 'up');
    ip('-n', name, 'addr', 'add', `${nsAddr}/30`, 'dev', vn);
    ip('-n', name, 'link', 'set', vn, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (e) {
    try { ip('link', 'del', vh); } catch { /* not created */ }
    ip('netns', 'del', name);
    throw e;
  }
  return {
    name, hostAddr, nsAddr,
    spawnIn: (argv) => spawn('ip', ['netns', 'exec', name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }),
    cleanup: () => {
      try { ip('link', 'del', vh); } catch { /* gone with the namespace */ }
      try { ip('netns', 'del', name); } catch { /* already deleted */ }
    },
  };
}

/** Read one line from a child's stdout (fixtures print "ready ..." when listening). */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    child.on('exit', (code) => reject(new Error(`fixture exited (${code}) before it was ready: ${err}`)));
  });
}
