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

const url = process.argv[2];
const say = (o: Record<string, unknown>, code: number): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
  process.exitCode = code;
};

if (!url) say({ outcome: 'failed', message: 'usage: fetch-skill.ts URL' }, 4);
else {
  try {
    const r = await egressGet(url);
    const declared = r.headers['content-length'];
    const complete = declared === undefined || Number(declared) === r.body.length;
    say({ outcome: complete ? 'fetched' : 'failed', status: r.status, bytes: r.body.length, complete, ...(complete ? {} : { message: `connection ended after ${r.body.length} of ${declared} bytes` }) }, complete ? 0 : 4);
  } catch (e) {
    if (e instanceof EgressRefused) say({ outcome: 'refused', status: e.status, reason: e.reason, message: e.message }, 3);
    else say({ outcome: 'failed', message: (e as Error)?.message ?? String(e) }, 4);
  }
}
