/**
 * The digest sealed in an intent is SHA-256("sios-intent/v1" || 0x00 || JCS(draft)), recomputable
 * by anyone from the entry: the gate's shortcut (members serialised once for digest and entry) must
 * give exactly those bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fixture } from './fixture.ts';
import { canonicalize, type Json } from '../../src/encoding/jcs.ts';
import { toBase64url } from '../../src/encoding/bytes.ts';
import { digestOfSealedIntent } from '../../src/gate/intent.ts';

test('a sealed intent\'s digest is recomputed from its entry, byte for byte', async (t) => {
  const f = await fixture(t);
  const r = await f.app.gate.submit({ credential: f.tokens.nurse, tenant: 'st-mary', brain: 'sios.assistant@1.0.0', skill: 'records.read', args: { collection: 'patients' } });
  assert.equal(r.status, 'done');
  if (r.status !== 'done') return;
  const store = f.app.deployment.ledgerStore('st-mary');
  let body: Record<string, Json>;
  let bytes: Uint8Array;
  try {
    const [e] = store.readEntries(r.intent, r.intent + 1);
    bytes = e!.bytes;
    body = (JSON.parse(new TextDecoder().decode(bytes)) as { body: Record<string, Json> }).body;
  } finally { store.close(); }
  // The entry bytes are the canonical form of the parsed entry, and the receipt carries them.
  assert.equal(new TextDecoder().decode(bytes), canonicalize(JSON.parse(new TextDecoder().decode(bytes))));
  assert.equal(r.receipt.entry, new TextDecoder().decode(bytes));
  // The digest, recomputed with plain canonicalize() and with the auditors' helper.
  const { digest, approvals, commitments, ...rest } = body as Record<string, Json> & { commitments: Record<string, Json> };
  void approvals;
  const draft = { ...rest, args: commitments['args'] };
  const expected = createHash('sha256').update('sios-intent/v1').update(new Uint8Array([0])).update(canonicalize(draft)).digest();
  assert.equal(digest, toBase64url(new Uint8Array(expected)));
  assert.equal(digest, toBase64url(digestOfSealedIntent(body)));
});
