/**
 * Crash at any instant loses no acknowledged record: a child process seals as fast as it can and is
 * killed with SIGKILL at different moments; every seq it acknowledged must be in the reopened,
 * verifiable ledger, and intents whose outcome was not yet sealed are reported in doubt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { newSeed, nodeVerifyCrypto as c, randomBytes, softwareSigner } from '../../src/crypto/node.ts';
import { toHex } from '../../src/encoding/bytes.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { SqliteLedgerStore } from '../../src/store/sqlite-ledger.ts';
import { exportBundle } from '../../src/ledger/export.ts';
import { verifyBundle } from '../../src/ledger/verify.ts';
import { utf8 } from '../../src/encoding/bytes.ts';
import { tempDir } from '../helpers/tmp.ts';
import { runAndKill } from '../helpers/kill.ts';

const fixture = path.join(import.meta.dirname, '..', 'fixtures', 'seal-forever.ts');

async function runAndKillSealer(dir: string, seedHex: string, afterAcks: number, writer: 'inline' | 'thread'): Promise<number[]> {
  return (await runAndKill(fixture, [dir, seedHex, writer], afterAcks)).map(Number);
}

for (const writer of ['inline', 'thread'] as const) {
  test(`SIGKILL at any moment loses no acknowledged entry; reopened ledger verifies (${writer} commits)`, async (t) => {
    const dir = tempDir(t);
    const seed = newSeed();
    const signer = softwareSigner(seed);
    let allAcked: number[] = [];
    for (const after of [1, 37, 150, 401]) {
      allAcked = allAcked.concat(await runAndKillSealer(dir, toHex(seed), after, writer));
      const store = new SqliteLedgerStore(path.join(dir, 'crash.db'));
      const ledger = Ledger.open({ tenant: 'crash', origin: 'sios/test/crash', store, signer, crypto: c, random: randomBytes });
      const size = ledger.size;
      for (const s of allAcked) assert.ok(s < size, `acknowledged entry ${s} lost (ledger has ${size})`);
      const inDoubt = ledger.inDoubt();
      await ledger.close();
      const s2 = new SqliteLedgerStore(path.join(dir, 'crash.db'));
      let out = '';
      exportBundle(s2, { origin: 'sios/test/crash', tenant: 'crash', crypto: c, publicKeys: [signer.publicKey] }, (x) => { out += x; });
      s2.close();
      const rep = await verifyBundle(utf8(out), { crypto: c, trustedKeys: [signer.publicKey] });
      assert.equal(rep.ok, true, rep.failure?.message);
      assert.deepEqual(rep.inDoubt, inDoubt);
      t.diagnostic(`killed after ${after} acks: ${size} entries durable, ${inDoubt.length} intents in doubt`);
    }
  });
}
