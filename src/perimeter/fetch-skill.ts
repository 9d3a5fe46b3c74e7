/**
 * The built-in demonstration skill `fetch`. It runs INSIDE a cell (bound at /sios/lib/, next to
 * cell-client.ts): GET one http:// URL through the tenant's egress gateway and print one JSON line
 *   {"outcome":"fetched","status":200,"bytes":N,"complete":true}
 *   {"outcome":"refused","status":403,"reason":"not-allowlisted","message":"..."}
 *   {"outcome":"failed","message":"..."}
 * Exit status: 0 fetched completely, 3 refused by the gateway, 4 failed or cut short.
 * The body itself is never printed (it is tenant data; the caller gets its size).
 */
import { egressGet, EgressRefused } from './cell-client.ts';

/** Decode an HTTP/1.1 chunked body (RFC 9112 §7.1); `complete` only when the last chunk arrived. */
function dechunk(raw: Uint8Array): { body: Uint8Array; complete: boolean } {
  const parts: Uint8Array[] = [];
  let pos = 0, total = 0;
  for (;;) {
    let eol = -1;
    for (let i = pos; i + 1 < raw.length; i++) if (raw[i] === 13 && raw[i + 1] === 10) { eol = i; break; }
    if (eol < 0) return { body: join(parts, total), complete: false };
    const size = parseInt(new TextDecoder().decode(raw.subarray(pos, eol)).split(';')[0]!.trim(), 16);
    if (!Number.isSafeInteger(size) || size < 0) return { body: join(parts, total), complete: false };
    if (size === 0) return { body: join(parts, total), complete: true };
    const start = eol + 2;
    if (start + size + 2 > raw.length) { parts.push(raw.subarray(start, raw.length)); total += raw.length - start; return { body: join(parts, total), complete: false }; }
    parts.push(raw.subarray(start, start + size)); total += size;
    pos = start + size + 2;
  }
}

function join(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const url = process.argv[2];
const say = (o: Record<string, unknown>, code: number): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
  process.exitCode = code;
};

if (!url) say({ outcome: 'failed', message: 'usage: fetch-skill.ts URL' }, 4);
else {
  try {
    const r = await egressGet(url);
    const chunked = /\bchunked\b/i.test(String(r.headers['transfer-encoding'] ?? ''));
    const declared = r.headers['content-length'];
    const d = chunked ? dechunk(r.body) : { body: r.body, complete: declared === undefined || Number(declared) === r.body.length };
    const complete = d.complete;
    say({ outcome: complete ? 'fetched' : 'failed', status: r.status, bytes: d.body.length, complete, ...(complete ? {} : { message: `connection ended after ${d.body.length}${declared === undefined ? '' : ` of ${declared}`} bytes` }) }, complete ? 0 : 4);
  } catch (e) {
    if (e instanceof EgressRefused) say({ outcome: 'refused', status: e.status, reason: e.reason, message: e.message }, 3);
    else say({ outcome: 'failed', message: (e as Error)?.message ?? String(e) }, 4);
  }
}
