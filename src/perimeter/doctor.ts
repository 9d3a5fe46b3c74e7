/**
 * `sios doctor` perimeter checks. Each returns {name, ok, detail}; the CLI prints them.
 * They read the network namespace SIOS runs in (/proc/net/* of this process).
 */
import { readFileSync } from 'node:fs';
import { checkSandbox } from './cell.ts';
import { classify, parseIp } from './address.ts';
import { compilePolicy } from './policy.ts';
import type { EgressPolicy } from './policy.ts';

export interface DoctorCheck { readonly name: string; readonly ok: boolean; readonly detail: string }

export interface SocketEntry { readonly proto: 'tcp' | 'tcp6' | 'udp' | 'udp6'; readonly local: string; readonly localPort: number; readonly remote: string; readonly remotePort: number; readonly state: number }

/** /proc/net/tcp stores addresses as host-order 32-bit words in hex. */
function decodeAddr(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes: number[] = [];
  for (const w of words) {
    const n = parseInt(w, 16);
    bytes.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  }
  if (bytes.length === 4) return bytes.join('.');
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return parseIp(parts.join(':'))?.text ?? parts.join(':');
}

/** Parse /proc/net/{tcp,tcp6,udp,udp6} (the text is passed in, so tests can feed samples). */
export function parseProcNet(proto: SocketEntry['proto'], text: string): SocketEntry[] {
  const out: SocketEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const [la, lp] = (f[1] ?? '').split(':');
    const [ra, rp] = (f[2] ?? '').split(':');
    if (!la || !lp || !ra || !rp) continue;
    out.push({ proto, local: decodeAddr(la), localPort: parseInt(lp, 16), remote: decodeAddr(ra), remotePort: parseInt(rp, 16), state: parseInt(f[3] ?? '0', 16) });
  }
  return out;
}

function readProc(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

function sockets(): SocketEntry[] {
  return [
    ...parseProcNet('tcp', readProc('/proc/net/tcp')), ...parseProcNet('tcp6', readProc('/proc/net/tcp6')),
    ...parseProcNet('udp', readProc('/proc/net/udp')), ...parseProcNet('udp6', readProc('/proc/net/udp6')),
  ];
}

function isLoopbackText(a: string): boolean {
  const ip = parseIp(a);
  return ip !== undefined && classify(ip).kind === 'loopback';
}

const TCP_LISTEN = 0x0a;
const TCP_ESTABLISHED = 0x01;
const TCP_SYN_SENT = 0x02;
const UDP_UNCONN = 0x07;

/** No TCP listener / bound UDP socket beyond loopback, except `allowed` (`addr:port` or `*:port`). */
export function checkListeners(allowed: readonly string[] = []): DoctorCheck {
  const bad = sockets().filter((s) => {
    const listening = s.proto.startsWith('tcp') ? s.state === TCP_LISTEN : s.state === UDP_UNCONN;
    if (!listening || isLoopbackText(s.local)) return false;
    return !allowed.includes(`${s.local}:${s.localPort}`) && !allowed.includes(`*:${s.localPort}`);
  });
  return bad.length === 0
    ? { name: 'listeners', ok: true, detail: 'no listening socket beyond loopback' + (allowed.length ? ` (configured: ${allowed.join(', ')})` : '') }
    : { name: 'listeners', ok: false, detail: `listening beyond loopback: ${bad.map((s) => `${s.proto} ${s.local}:${s.localPort}`).join(', ')}; stop the service or add it to the configuration` };
}

/** No TCP connection to a non-loopback address is open or being opened (outbound use). */
export function checkOutboundConnections(allowedRemotes: readonly string[] = []): DoctorCheck {
  const bad = sockets().filter((s) => s.proto.startsWith('tcp') && (s.state === TCP_ESTABLISHED || s.state === TCP_SYN_SENT)
    && !isLoopbackText(s.remote) && !allowedRemotes.includes(`${s.remote}:${s.remotePort}`));
  return bad.length === 0
    ? { name: 'outbound-connections', ok: true, detail: 'no TCP connection beyond loopback' }
    : { name: 'outbound-connections', ok: false, detail: `open connections beyond loopback: ${[...new Set(bad.map((s) => `${s.remote}:${s.remotePort}`))].slice(0, 10).join(', ')}; egress must go through the gateway's configured upstream only` };
}

/** No route beyond loopback (IPv4 /proc/net/route, IPv6 /proc/net/ipv6_route). */
export function checkRoutes(routeText = readProc('/proc/net/route'), route6Text = readProc('/proc/net/ipv6_route')): DoctorCheck {
  const found: string[] = [];
  for (const line of routeText.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[0] === 'lo') continue;
    found.push(`${f[0]} ${f[1] === '00000000' ? 'default' : decodeAddr(f[1] ?? '')}`);
  }
  for (const line of route6Text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const dev = f[9] as string;
    if (dev === 'lo') continue;
    // Unicast routes only (RTF_UP 0x1 set; skip local/multicast/link-local fe80::/64 on-link noise).
    const flags = parseInt(f[8] ?? '0', 16);
    if ((flags & 0x1) === 0 || (f[0] ?? '').startsWith('fe80') || (f[0] ?? '').startsWith('ff')) continue;
    found.push(`${dev} ${f[1] === '00' ? 'default' : `${f[0]}/${parseInt(f[1] ?? '0', 16)}`}`);
  }
  return found.length === 0
    ? { name: 'routes', ok: true, detail: 'no route beyond loopback: this machine cannot reach any network' }
    : { name: 'routes', ok: false, detail: `routes beyond loopback: ${found.slice(0, 10).join(', ')}; an air-gapped deployment has none (or only the upstream proxy's network)` };
}

export function checkBubblewrap(bwrapPath?: string): DoctorCheck {
  const st = bwrapPath === undefined ? checkSandbox() : checkSandbox(bwrapPath);
  return { name: 'bubblewrap', ok: st.ok, detail: st.detail };
}

/** Summarise each tenant's egress policy; flags what an auditor should look at. */
export function checkEgressPolicies(policies: readonly EgressPolicy[], optOuts: readonly { tenant: string; operator: string; reason: string }[] = []): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  for (const p of policies) {
    let detail: string;
    let ok = true;
    try {
      const c = compilePolicy(p);
      const allow = c.matchers.length === 0 ? 'no egress (default deny)' : `allows ${p.allow.map((r) => `${r.host}:${r.ports.join('|')}`).join(', ')}`;
      const notes: string[] = [];
      for (const r of c.ranges) {
        const ip = parseIp(r.text.split('/')[0] as string);
        const kind = ip ? classify(ip).kind : 'reserved';
        notes.push(`internal range ${r.text} (${kind})`);
        if (kind === 'loopback' || kind === 'metadata' || r.bits < (r.family === 4 ? 8 : 32)) { ok = false; notes.push(`review: ${r.text} opens ${kind === 'global' ? 'a very broad range' : kind} addresses`); }
      }
      if (c.upstream) notes.push(`all egress via upstream ${c.upstream.name} (${c.upstream.host}:${c.upstream.port}, names resolved by ${c.upstream.resolveVia})`);
      detail = `tenant ${p.tenant}: ${allow}${notes.length ? `; ${notes.join('; ')}` : ''}; budgets ${p.budgets.maxConcurrent} concurrent, ${p.budgets.maxConnectionsPerWindow} connections and ${p.budgets.maxBytesPerWindow} bytes per ${p.budgets.windowMs} ms`;
    } catch (e) {
      ok = false;
      detail = `tenant ${p.tenant}: invalid policy: ${(e as Error).message}`;
    }
    out.push({ name: `egress-policy:${p.tenant}`, ok, detail });
  }
  for (const o of optOuts) out.push({ name: `sandbox-opt-out:${o.tenant}`, ok: false, detail: `tenant ${o.tenant} runs skills WITHOUT a sandbox (opted out by ${o.operator}: ${o.reason})` });
  return out;
}

export interface PerimeterDoctorOptions {
  readonly policies?: readonly EgressPolicy[];
  readonly optOuts?: readonly { tenant: string; operator: string; reason: string }[];
  readonly allowedListeners?: readonly string[];
  readonly allowedRemotes?: readonly string[];
  readonly bwrapPath?: string;
}

export function perimeterDoctor(o: PerimeterDoctorOptions = {}): DoctorCheck[] {
  return [
    checkListeners(o.allowedListeners ?? []),
    checkOutboundConnections(o.allowedRemotes ?? []),
    checkRoutes(),
    checkBubblewrap(o.bwrapPath),
    ...checkEgressPolicies(o.policies ?? [], o.optOuts ?? []),
  ];
}
