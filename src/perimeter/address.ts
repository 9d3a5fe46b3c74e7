/**
 * IP address parsing and classification for the egress gateway.
 *
 * Why so careful: an SSRF filter that parses `127.0.0.1` but not `0177.0.0.1`, `2130706433`,
 * `0x7f.1` or `::ffff:7f00:1` is bypassed by the first attacker who reads inet_aton(3). So:
 * - any host whose last label is numeric (WHATWG URL "ends in a number") is parsed as IPv4 in
 *   every inet_aton notation (decimal, octal, hex, 1 to 4 parts); if that parse fails the host is
 *   invalid, never a DNS name;
 * - IPv6 literals are validated with node:net and expanded to 16 bytes; zone ids are refused;
 * - IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96) are
 *   classified by the IPv4 address they reach; the other tunnelling forms (6to4, Teredo,
 *   IPv4-compatible, local NAT64) are refused as reserved.
 * Classification follows the IANA IPv4/IPv6 Special-Purpose Address Registries (RFC 6890): only
 * globally reachable unicast is `global`; everything else is refused unless an operator allowlists
 * a range (policy.ts).
 */
import { isIPv4, isIPv6 } from 'node:net';

export type AddressKind =
  | 'global'
  | 'unspecified'   // 0.0.0.0/8, :: (connecting to 0.0.0.0 reaches the local host on Linux)
  | 'loopback'
  | 'private'       // RFC 1918, fc00::/7, fec0::/10
  | 'shared'        // 100.64.0.0/10 carrier-grade NAT
  | 'link-local'
  | 'multicast'
  | 'broadcast'
  | 'metadata'      // cloud instance metadata endpoints
  | 'documentation'
  | 'benchmarking'
  | 'reserved';     // everything else that is not globally reachable unicast

export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  /** Canonical text: dotted quad, or RFC 5952 lower-case compressed IPv6 (no brackets). */
  readonly text: string;
}

export interface Classification {
  readonly kind: AddressKind;
  /** For IPv4-mapped and NAT64 forms: the IPv4 address actually reached. */
  readonly effective: IpAddress;
}

function v4(bytes: Uint8Array): IpAddress {
  return { family: 4, bytes, text: `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}` };
}

function v6text(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i] as number) << 8) | (b[i + 1] as number));
  // RFC 5952 4.2: compress the longest run (>= 2) of zero words, the first one on a tie.
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

function v6(bytes: Uint8Array): IpAddress {
  return { family: 6, bytes, text: v6text(bytes) };
}

// Hoisted: a regular expression literal makes a new object each time it is evaluated, and these
// run on every request (none has the g or y flag, so sharing them carries no lastIndex state).
const HEX_PREFIX = /^0[xX]/;
const HEX_DIGITS = /^[0-9a-fA-F]+$/;
const OCT_DIGITS = /^[0-7]+$/;
const DEC_DIGITS = /^[0-9]+$/;
const LEADING_ZEROS = /^0+/;
const HEX_NUMBER = /^0[xX][0-9a-fA-F]*$/;

/** One inet_aton part: 0x.. hex, 0.. octal, else decimal. Returns undefined when invalid. */
function parseV4Part(p: string): number | undefined {
  if (p === '') return undefined;
  let radix = 10;
  let digits = p;
  if (HEX_PREFIX.test(p)) { radix = 16; digits = p.slice(2); if (digits === '') return 0; }
  else if (p.length > 1 && p.startsWith('0')) { radix = 8; digits = p.slice(1); }
  const re = radix === 16 ? HEX_DIGITS : radix === 8 ? OCT_DIGITS : DEC_DIGITS;
  if (!re.test(digits)) return undefined;
  // Bound before parseInt to avoid precision loss on absurdly long inputs.
  if (digits.replace(LEADING_ZEROS, '').length > 11) return undefined;
  return parseInt(digits, radix);
}

/** True when the host must be treated as an IPv4 literal (WHATWG URL "ends in a number"). */
function endsInNumber(host: string): boolean {
  const labels = host.split('.');
  if (labels.length > 1 && labels[labels.length - 1] === '') labels.pop();
  const last = labels[labels.length - 1] ?? '';
  return DEC_DIGITS.test(last) || HEX_NUMBER.test(last);
}

/** inet_aton semantics: a.b.c.d, a.b.c (c 16 bits), a.b (b 24 bits), a (32 bits). */
function parseV4Any(host: string): IpAddress | undefined {
  let h = host;
  if (h.endsWith('.')) h = h.slice(0, -1);
  const parts = h.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    const n = parseV4Part(p);
    if (n === undefined) return undefined;
    nums.push(n);
  }
  const last = nums.pop() as number;
  for (const n of nums) if (n > 255) return undefined;
  const lastBits = 8 * (4 - nums.length);
  if (last >= 2 ** lastBits) return undefined;
  const bytes = new Uint8Array(4);
  nums.forEach((n, i) => { bytes[i] = n; });
  for (let i = 3, v = last; i >= nums.length; i--, v = Math.floor(v / 256)) bytes[i] = v & 255;
  return v4(bytes);
}

function parseV6(s: string): IpAddress | undefined {
  if (!isIPv6(s)) return undefined;
  let text = s.toLowerCase();
  const tailWords: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    if (!isIPv4(maybeV4)) return undefined;
    const q = maybeV4.split('.').map(Number);
    tailWords.push(((q[0] as number) << 8) | (q[1] as number), ((q[2] as number) << 8) | (q[3] as number));
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [headS, tailS] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const head = headS === '' ? [] : headS.split(':');
  const tail = tailS === undefined || tailS === '' ? [] : tailS.split(':');
  const fill = tailS === undefined ? 0 : 8 - head.length - tail.length;
  const all = [...head, ...new Array<string>(fill).fill('0'), ...tail];
  if (all.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  all.forEach((w, i) => { const n = parseInt(w, 16); bytes[2 * i] = n >> 8; bytes[2 * i + 1] = n & 255; });
  if (tailWords.length === 2) {
    bytes[12] = (tailWords[0] as number) >> 8; bytes[13] = (tailWords[0] as number) & 255;
    bytes[14] = (tailWords[1] as number) >> 8; bytes[15] = (tailWords[1] as number) & 255;
  }
  return v6(bytes);
}

export type HostParse =
  | { readonly type: 'ip'; readonly ip: IpAddress }
  | { readonly type: 'name'; readonly name: string }
  | { readonly type: 'invalid'; readonly why: string };

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * Parse a destination host as a client would: `[v6]`, bare v6, any inet_aton IPv4 notation, or a
 * DNS name (ASCII LDH; IDNs must be sent in punycode). Names are lower-cased, trailing dot removed.
 */
export function parseHost(input: string): HostParse {
  if (input.length === 0 || input.length > 255) return { type: 'invalid', why: 'empty or longer than 255 characters' };
  let h = input;
  if (h.startsWith('[')) {
    if (!h.endsWith(']')) return { type: 'invalid', why: 'unbalanced brackets' };
    h = h.slice(1, -1);
    if (h.includes('%')) return { type: 'invalid', why: 'IPv6 zone identifiers are not accepted' };
    const ip = parseV6(h);
    return ip ? { type: 'ip', ip } : { type: 'invalid', why: 'bracketed host is not an IPv6 address' };
  }
  if (h.includes(':')) {
    if (h.includes('%')) return { type: 'invalid', why: 'IPv6 zone identifiers are not accepted' };
    const ip = parseV6(h);
    return ip ? { type: 'ip', ip } : { type: 'invalid', why: 'host contains ":" but is not an IPv6 address' };
  }
  if (endsInNumber(h)) {
    const ip = parseV4Any(h);
    return ip ? { type: 'ip', ip } : { type: 'invalid', why: 'host ends in a number but is not a valid IPv4 address in any notation' };
  }
  let name = h.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length > 253) return { type: 'invalid', why: 'DNS name longer than 253 characters' };
  for (const label of name.split('.')) {
    if (!LABEL.test(label)) return { type: 'invalid', why: 'not a valid DNS name (ASCII letters, digits, "-" and "_"; send IDNs as punycode)' };
  }
  return { type: 'name', name };
}

/** Parse a canonical IP string as returned by a resolver (dotted quad or IPv6). */
export function parseIp(s: string): IpAddress | undefined {
  if (isIPv4(s)) return parseV4Any(s);
  if (s.includes('%')) return undefined;
  return parseV6(s);
}

export interface Cidr { readonly family: 4 | 6; readonly net: Uint8Array; readonly bits: number; readonly text: string }

/** Parse `a.b.c.d/n`, `v6/n` or a single address (host route). Strict dotted quad for IPv4. */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  const addrS = slash < 0 ? s : s.slice(0, slash);
  if (!isIPv4(addrS) && !isIPv6(addrS)) return undefined;
  const ip = parseIp(addrS);
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const b = s.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(b)) return undefined;
    bits = Number(b);
    if (bits > max) return undefined;
  }
  const net = ip.bytes.slice();
  for (let i = 0; i < net.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    net[i] = (net[i] as number) & ((0xff00 >> keep) & 0xff);
  }
  return { family: ip.family, net, bits, text: `${(ip.family === 4 ? v4(net) : v6(net)).text}/${bits}` };
}

export function cidrContains(c: Cidr, ip: IpAddress): boolean {
  if (c.family !== ip.family) return false;
  for (let i = 0; i < c.net.length; i++) {
    const keep = Math.max(0, Math.min(8, c.bits - 8 * i));
    if (keep === 0) return true;
    const mask = (0xff00 >> keep) & 0xff;
    if (((ip.bytes[i] as number) & mask) !== c.net[i]) return false;
  }
  return true;
}

interface Range { readonly cidr: Cidr; readonly kind: AddressKind }

function ranges(list: Array<[string, AddressKind]>): Range[] {
  return list.map(([c, kind]) => {
    const cidr = parseCidr(c);
    if (!cidr) throw new Error(`internal: bad range ${c}`);
    return { cidr, kind };
  });
}

// Order matters: more specific first. IANA IPv4 Special-Purpose Address Registry + metadata.
const V4 = ranges([
  ['169.254.169.254/32', 'metadata'],   // AWS, GCP, Azure, OpenStack, DigitalOcean
  ['100.100.100.200/32', 'metadata'],   // Alibaba Cloud
  ['168.63.129.16/32', 'metadata'],     // Azure WireServer (public-looking!)
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'documentation'],
  ['192.31.196.0/24', 'reserved'],
  ['192.52.193.0/24', 'reserved'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['192.175.48.0/24', 'reserved'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
]);

const V6 = ranges([
  ['fd00:ec2::254/128', 'metadata'],    // AWS IPv6 metadata
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['100::/64', 'reserved'],
  ['2001:db8::/32', 'documentation'],
  ['2001:2::/48', 'benchmarking'],
  ['2001::/23', 'reserved'],            // includes Teredo 2001::/32 (tunnels to an embedded IPv4)
  ['2002::/16', 'reserved'],            // 6to4 (tunnels to an embedded IPv4)
  ['3fff::/20', 'documentation'],
  ['5f00::/16', 'reserved'],
  ['fc00::/7', 'private'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'],
  ['ff00::/8', 'multicast'],
]);

const MAPPED = parseCidr('::ffff:0:0/96') as Cidr;
const NAT64 = parseCidr('64:ff9b::/96') as Cidr;
const GLOBAL6 = parseCidr('2000::/3') as Cidr;

function lookup(table: Range[], ip: IpAddress): AddressKind | undefined {
  for (const r of table) if (cidrContains(r.cidr, ip)) return r.kind;
  return undefined;
}

/**
 * Classify an address by what it reaches. IPv4-mapped and NAT64 (64:ff9b::/96) addresses are
 * classified by their embedded IPv4 address; other IPv6 outside 2000::/3 is reserved.
 */
export function classify(ip: IpAddress): Classification {
  if (ip.family === 4) return { kind: lookup(V4, ip) ?? 'global', effective: ip };
  if (cidrContains(MAPPED, ip) || cidrContains(NAT64, ip)) {
    const inner = v4(ip.bytes.slice(12, 16));
    return { kind: lookup(V4, inner) ?? 'global', effective: inner };
  }
  const k = lookup(V6, ip);
  if (k) return { kind: k, effective: ip };
  return { kind: cidrContains(GLOBAL6, ip) ? 'global' : 'reserved', effective: ip };
}

/** True for the IPv4-mapped form, which the gateway dials as plain IPv4 (the address it checked). */
export function isMapped(ip: IpAddress): boolean {
  return ip.family === 6 && cidrContains(MAPPED, ip);
}

export function isLoopback(ip: IpAddress): boolean {
  return classify(ip).kind === 'loopback';
}
