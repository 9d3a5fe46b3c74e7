/**
 * Operator key rotation across a deployment: every ledger verifies across it from either key; an
 * interrupted rotation refuses to open (it would sign on with the old key where the new one was
 * announced) until `--resume` finishes it, after which every ledger verifies again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initDeployment, Deployment } from '../../src/deployment/deployment.ts';
import { passphraseProtector } from '../../src/crypto/passphrase.ts';
import { nodeVerifyCrypto as c } from '../../src/crypto/node.ts';
import { exportBundle } from '../../src/ledger/export.ts';
import { verifyBundle } from '../../src/ledger/verify.ts';
import { utf8 } from '../../src/encoding/bytes.ts';
import { tempDir } from '../helpers/tmp.ts';

const PASS = 'correct horse battery staple';

async function verifyAll(d: Deployment, keys: Uint8Array[]): Promise<void> {
  for (const t of ['system', ...d.tenants().map((x) => x.id)]) {
    const store = d.ledgerStore(t);
    let text = '';
    try { exportBundle(store, { origin: d.originOf(t), tenant: t, crypto: c, publicKeys: [] }, (x) => { text += x; }); } finally { store.close(); }
    for (const k of keys) {
      const r = await verifyBundle(utf8(text), { crypto: c, trustedKeys: [k] });
      assert.equal(r.ok, true, `${t}: ${r.failure?.message}`);
    }
  }
}

test('rotation, an interrupted rotation refused at open, and --resume', async (t) => {
  const dir = tempDir(t);
  const p = passphraseProtector(PASS);
  await initDeployment(dir, [p], { id: 'rot' });
  let d = await Deployment.open(dir, { passphrase: PASS });
  for (const id of ['a', 'b', 'c']) { await d.createTenant(id, 'operator'); await d.ledger(id).seal({ kind: 'intent', body: { n: 1 } }); }
  const k0 = d.signer.publicKey;
  await d.rotateKey([p], 'operator');
  const k1 = d.signer.publicKey;
  await d.ledger('a').seal({ kind: 'intent', body: { after: 1 } });
  await verifyAll(d, [k0, k1]);
  // interrupted: two ledgers rotate, then the process "dies"
  await assert.rejects(d.rotateKey([p], 'operator', { faultAfterLedgers: 2 }), /fault injected/);
  await d.close();
  await assert.rejects(Deployment.open(dir, { passphrase: PASS }), /interrupted; finish it with 'sios key rotate --resume'/);
  const r = await Deployment.resumeRotation(dir, PASS, 'operator');
  assert.equal(r.ledgers, 4);
  d = await Deployment.open(dir, { passphrase: PASS });
  const k2 = d.signer.publicKey;
  assert.notDeepEqual(k2, k1);
  for (const id of ['a', 'b', 'c']) await d.ledger(id).seal({ kind: 'intent', body: { resumed: 1 } });
  await verifyAll(d, [k0, k2]);
  await d.close();
  p.dispose();
});
