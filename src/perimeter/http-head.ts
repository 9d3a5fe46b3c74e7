/**
 * Strict parser for the request head a client sends to the egress gateway (RFC 9112).
 * Strict on purpose: a forward proxy that is lenient where an origin is strict (or the reverse) is
 * how request smuggling works. Refused outright: bare LF or CR, obs-fold, control characters,
 * duplicate or comma-listed Content-Length, Content-Length together with Transfer-Encoding,
 * Transfer-Encoding on CONNECT, duplicate Host, userinfo in the authority, fragments.
 */
import { parseHost } from './address.ts';
import type { HostParse } from './address.ts';

export type RequestHead =
  | {
      readonly mode: 'connect';
      readonly host: Exclude<HostParse, { type: 'invalid' }>;
      readonly hostText: string;
      readonly port: number;
    }
  | {
      readonly mode: 'absolute-form';
      readonly method: string;
      readonly host: Exclude<HostParse, { type: 'invalid' }>;
      readonly hostText: string;
      readonly port: number;
      /** origin-form path + query to send upstream */
      readonly path: string;
      readonly version: '1.0' | '1.1';
      /** headers to forward, hop-by-hop and proxy headers removed */
      readonly headers: ReadonlyArray<readonly [string, string]>;
      readonly contentLength: number;
    };

export interface HeadError {
  readonly error: string;   // stable reason code
  readonly status: number;  // HTTP status to answer with
  readonly detail: string;
  /** Destination, when it could be parsed before the error was found. */
  readonly destination?: string;
}

// Regular expressions are module constants: a literal makes a new object each time it is evaluated,
// and these run on every request. OWS is the only one with the g flag; replace() resets its
// lastIndex before use (RFC 9110 5.6.3 OWS: optional spaces and tabs).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const REQUEST_LINE = /^([A-Z]{1,16}) ([^ ]{1,8000}) HTTP\/1\.([01])$/;
const OWS = /^[ \t]+|[ \t]+$/g;
const PORT_DIGITS = /^[0-9]{1,5}$/;
const CONTENT_LENGTH = /^[0-9]{1,15}$/;
const PATH_START = /[/?#]/;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
const HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade', 'transfer-encoding', 'host']);

function err(error: string, status: number, detail: string, destination?: string): HeadError {
  return destination === undefined ? { error, status, detail } : { error, status, detail, destination };
}

/** Split `host:port` (IPv6 in brackets). */
function splitAuthority(a: string): { hostText: string; port: string | undefined } | undefined {
  if (a.includes('@')) return undefined;
  if (a.startsWith('[')) {
    const close = a.indexOf(']');
    if (close < 0) return undefined;
    const after = a.slice(close + 1);
    if (after === '') return { hostText: a.slice(0, close + 1), port: undefined };
    if (!after.startsWith(':')) return undefined;
    return { hostText: a.slice(0, close + 1), port: after.slice(1) };
  }
  const c = a.indexOf(':');
  if (c < 0) return { hostText: a, port: undefined };
  if (a.indexOf(':', c + 1) >= 0) return undefined; // bare IPv6 must be bracketed in an authority
  return { hostText: a.slice(0, c), port: a.slice(c + 1) };
}

function parsePort(p: string | undefined, dflt: number | undefined): number | undefined {
  if (p === undefined || p === '') return dflt;
  if (!PORT_DIGITS.test(p)) return undefined;
  const n = Number(p);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Parse a head (latin1 text up to, not including, the blank line). */
export function parseRequestHead(head: string): RequestHead | HeadError {
  const lines = head.split('\r\n');
  for (const l of lines) if (l.includes('\n') || l.includes('\r')) return err('bare-line-ending', 400, 'lines must end in CRLF');
  const m = REQUEST_LINE.exec(lines[0] ?? '');
  if (!m) return err('bad-request-line', 400, 'request line must be "METHOD target HTTP/1.1"');
  const method = m[1] as string;
  const target = m[2] as string;
  const version = m[3] === '0' ? '1.0' : '1.1';
  const headers: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l.startsWith(' ') || l.startsWith('\t')) return err('obs-fold', 400, 'folded header lines are not accepted');
    const c = l.indexOf(':');
    if (c <= 0) return err('bad-header', 400, 'header line without a name');
    const name = l.slice(0, c);
    if (!TOKEN.test(name)) return err('bad-header', 400, 'header name is not a token (whitespace before ":" is not accepted)');
    const value = l.slice(c + 1).replace(OWS, '');
    if (BAD_VALUE.test(value)) return err('bad-header', 400, 'header value contains control characters');
    headers.push([name.toLowerCase(), value]);
  }
  const all = (n: string) => headers.filter(([k]) => k === n).map(([, v]) => v);
  const cls = all('content-length');
  const tes = all('transfer-encoding');
  if (cls.length > 1) return err('smuggling-content-length', 400, 'more than one Content-Length header');
  if (cls.length === 1 && !CONTENT_LENGTH.test(cls[0] as string)) return err('smuggling-content-length', 400, 'Content-Length is not a single decimal number');
  if (cls.length > 0 && tes.length > 0) return err('smuggling-cl-te', 400, 'Content-Length together with Transfer-Encoding is refused');
  if (all('host').length > 1) return err('bad-header', 400, 'more than one Host header');
  const contentLength = cls.length === 1 ? Number(cls[0]) : 0;

  if (method === 'CONNECT') {
    const a = splitAuthority(target);
    if (!a) return err('bad-target', 400, 'CONNECT target must be host:port');
    const port = parsePort(a.port, undefined);
    if (port === undefined) return err('bad-target', 400, 'CONNECT target needs a port from 1 to 65535', target);
    const host = parseHost(a.hostText);
    if (host.type === 'invalid') return err('invalid-host', 400, `destination host is invalid: ${host.why}`, target);
    if (tes.length > 0 || contentLength > 0) return err('smuggling-connect-body', 400, 'CONNECT must not carry a body', target);
    return { mode: 'connect', host, hostText: a.hostText, port };
  }
  const lower = target.slice(0, 8).toLowerCase();
  if (lower.startsWith('https://')) return err('https-absolute-form', 400, 'use CONNECT for https:// destinations');
  if (!lower.startsWith('http://')) return err('not-proxy-request', 400, 'send CONNECT host:port or an absolute http:// URL');
  if (!METHODS.has(method)) return err('bad-method', 405, `method ${method} is not forwarded`);
  if (tes.length > 0) return err('transfer-encoding-unsupported', 501, 'Transfer-Encoding request bodies are not forwarded; send Content-Length');
  const rest = target.slice(7);
  const cut = rest.search(PATH_START);
  const authority = cut < 0 ? rest : rest.slice(0, cut);
  let path = cut < 0 ? '/' : rest.slice(cut);
  if (path.includes('#')) return err('bad-target', 400, 'fragments are not sent to servers');
  if (path.startsWith('?')) path = `/${path}`;
  const a = splitAuthority(authority);
  if (!a) return err('bad-target', 400, 'absolute URL authority must be host[:port] without userinfo');
  const port = parsePort(a.port, 80);
  if (port === undefined) return err('bad-target', 400, 'port must be from 1 to 65535', authority);
  const host = parseHost(a.hostText);
  if (host.type === 'invalid') return err('invalid-host', 400, `destination host is invalid: ${host.why}`, authority);
  const connTokens = all('connection').flatMap((v) => v.split(',').map((s) => s.trim().toLowerCase()));
  const fwd = headers.filter(([k]) => !HOP.has(k) && !connTokens.includes(k));
  return { mode: 'absolute-form', method, host, hostText: a.hostText, port, path, version, headers: fwd, contentLength };
}
