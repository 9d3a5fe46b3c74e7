/**
 * The skill side of egress: used by code INSIDE a cell to reach the outside through the tenant's
 * egress gateway (the Unix socket bound at $SIOS_EGRESS_SOCKET). Self-contained on purpose (only
 * node:net), so a cell needs nothing of SIOS but this one file bound read-only.
 *
 *   import { egressConnect, egressGet } from '/sios/lib/cell-client.ts';
 *   const tunnel = await egressConnect('api.example.com', 443);   // then tls.connect({ socket: tunnel, servername })
 *   const r = await egressGet('http://api.example.com/v1/x');      // plain http, via CONNECT
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export class EgressRefused extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = 'EgressRefused';
    this.status = status;
    this.reason = reason;
  }
}

function socketPath(explicit: string | undefined): string {
  const p = explicit ?? process.env['SIOS_EGRESS_SOCKET'];
  if (!p) throw new Error('no egress gateway socket: this cell was started without egress (SIOS_EGRESS_SOCKET is unset)');
  return p;
}

/** Open a CONNECT tunnel to host:port through the gateway; resolves with the raw socket. */
export function egressConnect(host: string, port: number, options: { socketPath?: string } = {}): Promise<Socket> {
  const authority = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath(options.socketPath));
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const idx = buf.indexOf('\r\n\r\n');
      if (idx < 0) { if (buf.length > 16384) { sock.destroy(); reject(new Error('gateway answered with an oversized head')); } return; }
      sock.off('data', onData);
      sock.off('error', reject);
      const head = buf.subarray(0, idx).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      if (status !== 200) {
        const reason = /\r\nX-Sios-Reason: ([^\r]*)/i.exec(head)?.[1] ?? 'unknown';
        sock.destroy();
        reject(new EgressRefused(status, reason, `egress to ${authority} refused (${status} ${reason}): ${buf.subarray(idx + 4).toString('utf8').trim()}`));
        return;
      }
      sock.pause();
      const early = buf.subarray(idx + 4);
      if (early.length > 0) sock.unshift(early);
      resolve(sock);
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.once('connect', () => sock.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
  });
}

export interface EgressResponse { readonly status: number; readonly headers: Record<string, string>; readonly body: Uint8Array }

/** A plain-HTTP GET through a CONNECT tunnel (HTTP/1.1, Connection: close, body read to EOF). */
export async function egressGet(url: string, options: { socketPath?: string; maxBytes?: number } = {}): Promise<EgressResponse> {
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new Error('egressGet speaks plain http://; for https open egressConnect() and wrap it with tls.connect');
  const port = u.port === '' ? 80 : Number(u.port);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const sock = await egressConnect(host, port, options.socketPath === undefined ? {} : { socketPath: options.socketPath });
  const max = options.maxBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    sock.on('data', (d: Buffer) => { n += d.length; if (n > max) { sock.destroy(); reject(new Error(`response larger than ${max} bytes`)); return; } parts.push(d); });
    sock.on('error', reject);
    sock.on('end', () => {
      const all = Buffer.concat(parts);
      const idx = all.indexOf('\r\n\r\n');
      if (idx < 0) { reject(new Error('response has no complete head')); return; }
      const lines = all.subarray(0, idx).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) { const c = l.indexOf(':'); if (c > 0) headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim(); }
      resolve({ status, headers, body: new Uint8Array(all.subarray(idx + 4)) });
    });
    sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`);
    sock.resume();
  });
}
