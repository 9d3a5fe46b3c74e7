import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, parseHost, parseCidr, cidrContains, parseIp } from '../../src/perimeter/address.ts';
import { checkAddress, compilePolicy, matchDestination, parseEgressPolicy, DEFAULT_BUDGETS } from '../../src/perimeter/policy.ts';
import { SiosError } from '../../src/errors.ts';

function ipOf(h: string) {
  const p = parseHost(h);
  assert.equal(p.type, 'ip', `${h} should parse as an IP literal, got ${JSON.stringify(p)}`);
  return (p as { ip: { text: string; family: 4 | 6 } }).ip as Parameters<typeof classify>[0];
}

test('every IPv4 notation of 127.0.0.1 is recognised as loopback', () => {
  for (const h of ['127.0.0.1', '2130706433', '0177.0.0.1', '0x7f.1', '0x7f.0.0.1', '127.1', '127.0.1', '0x7F000001', '017700000001', '127.0.0.1.', '0177.0.0.01']) {
    const ip = ipOf(h);
    assert.equal(ip.text, '127.0.0.1', h);
    assert.equal(classify(ip).kind, 'loopback', h);
  }
});

test('IPv6 forms that reach loopback or private space are classified by what they reach', () => {
  const cases: Array<[string, string]> = [
    ['[::1]', 'loopback'], ['::1', 'loopback'], ['[::ffff:127.0.0.1]', 'loopback'], ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::7f00:1', 'loopback'], ['64:ff9b::127.0.0.1', 'loopback'], ['[::ffff:10.1.2.3]', 'private'], ['::ffff:a9fe:a9fe', 'metadata'],
    ['fe80::1', 'link-local'], ['fc00::1', 'private'], ['fd12:3456::1', 'private'], ['ff02::1', 'multicast'], ['::', 'unspecified'],
    ['2002:7f00:1::1', 'reserved'], ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], ['::7f00:1', 'reserved'],
    ['64:ff9b:1::a00:1', 'reserved'], ['fd00:ec2::254', 'metadata'], ['2001:db8::1', 'documentation'],
    ['2606:4700::1111', 'global'], ['64:ff9b::808:808', 'global'],
  ];
  for (const [h, kind] of cases) assert.equal(classify(ipOf(h)).kind, kind, h);
});

test('IPv4 special-purpose ranges', () => {
  const cases: Array<[string, string]> = [
    ['10.0.0.1', 'private'], ['172.16.5.4', 'private'], ['172.32.0.1', 'global'], ['192.168.1.1', 'private'], ['100.64.0.1', 'shared'],
    ['169.254.169.254', 'metadata'], ['169.254.1.1', 'link-local'], ['168.63.129.16', 'metadata'], ['100.100.100.200', 'metadata'],
    ['0.0.0.0', 'unspecified'], ['0', 'unspecified'], ['224.0.0.1', 'multicast'], ['255.255.255.255', 'broadcast'], ['240.0.0.1', 'reserved'],
    ['198.51.100.7', 'documentation'], ['198.18.0.1', 'benchmarking'], ['8.8.8.8', 'global'], ['1.1.1.1', 'global'],
  ];
  for (const [h, kind] of cases) assert.equal(classify(ipOf(h)).kind, kind, h);
});

test('hosts that end in a number but are not valid IPv4 are invalid, never DNS names', () => {
  for (const h of ['256.0.0.1', '1.2.3.4.5', '0x100000000', '08.0.0.1', '1..1', '4294967296', 'example.123', '[::1', '[fe80::1%eth0]', 'fe80::1%25eth0', '1:2:3']) {
    assert.equal(parseHost(h).type, 'invalid', h);
  }
  assert.deepEqual(parseHost('Example.COM.'), { type: 'name', name: 'example.com' });
  assert.equal(parseHost('exa mple.com').type, 'invalid');
  assert.equal(parseHost('ex\u00e4mple.com').type, 'invalid');
  assert.equal(parseHost('a'.repeat(64) + '.com').type, 'invalid');
});

test('CIDR parsing and containment', () => {
  const c = parseCidr('10.20.0.0/16');
  assert.ok(c);
  assert.ok(cidrContains(c, parseIp('10.20.255.1')!));
  assert.ok(!cidrContains(c, parseIp('10.21.0.1')!));
  assert.equal(parseCidr('10.20.1.1/16')?.text, '10.20.0.0/16');
  assert.equal(parseCidr('fd00:1::/32')?.text, 'fd00:1::/32');
  for (const bad of ['10.0.0.0/33', '0177.0.0.1/8', 'fd00::/129', '10.0.0.0/', 'x/8', '10.0.0.0/08x']) assert.equal(parseCidr(bad), undefined, bad);
});

test('policy: default deny, patterns, ports, internal ranges, metadata needs an exact entry', () => {
  const p = compilePolicy(parseEgressPolicy({
    tenant: 'bank',
    allow: [{ host: 'api.example.com', ports: [443] }, { host: '*.svc.example.org', ports: [443, 8443] }, { host: '203.0.113.9', ports: [80] }],
    internalRanges: ['10.20.0.0/16', '169.254.0.0/16'],
  }));
  const name = (n: string) => ({ type: 'name' as const, name: n });
  assert.equal(matchDestination(p, name('api.example.com'), 443), 'api.example.com');
  assert.equal(matchDestination(p, name('api.example.com'), 80), undefined);
  assert.equal(matchDestination(p, name('evil-api.example.com'), 443), undefined);
  assert.equal(matchDestination(p, name('a.b.svc.example.org'), 8443), '*.svc.example.org');
  assert.equal(matchDestination(p, name('svc.example.org'), 443), undefined, 'wildcard does not cover the apex');
  assert.equal(matchDestination(p, name('svc.example.org.evil.com'), 443), undefined);
  assert.equal(matchDestination(p, { type: 'ip', ip: parseIp('203.0.113.9')! }, 80), '203.0.113.9');
  assert.equal(checkAddress(p, parseIp('10.20.3.4')!).ok, true);
  assert.equal(checkAddress(p, parseIp('10.21.3.4')!).ok, false);
  assert.equal(checkAddress(p, parseIp('127.0.0.1')!).ok, false);
  assert.equal(checkAddress(p, parseIp('169.254.169.254')!).ok, false, 'metadata is not opened by a broad link-local range');
  assert.equal(checkAddress(p, parseIp('169.254.1.1')!).ok, true);
  assert.equal(checkAddress(p, parseIp('0.0.0.0')!).ok, false);
  const deny = compilePolicy({ tenant: 't', allow: [], internalRanges: [], budgets: DEFAULT_BUDGETS });
  assert.equal(matchDestination(deny, name('api.example.com'), 443), undefined);
});

test('policy: unknown keys, bad patterns and bad ranges are refused loudly', () => {
  const bad: unknown[] = [
    { tenant: 'a', allow: [{ host: '*', ports: [443] }] },
    { tenant: 'a', allow: [{ host: '*.com', ports: [443] }] },
    { tenant: 'a', allow: [{ host: 'a*.example.com', ports: [443] }] },
    { tenant: 'a', allow: [{ host: 'x.example.com', ports: [0] }] },
    { tenant: 'a', allow: [{ host: 'x.example.com', ports: [] }] },
    { tenant: 'a', allow: [{ host: 'x.example.com', ports: [443], extra: 1 }] },
    { tenant: 'a', allowed: [] },
    { tenant: 'a', internalRanges: ['10.0.0.0/8x'] },
    { tenant: 'a', upstream: { name: 'u', host: 'proxy.example.com', port: 3128 } },
    { tenant: 'A B' },
    { tenant: 'a', budgets: { maxConcurrent: -1 } },
  ];
  for (const b of bad) {
    assert.throws(() => parseEgressPolicy(b), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT', JSON.stringify(b));
  }
});
