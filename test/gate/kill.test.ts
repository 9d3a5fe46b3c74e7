/**
 * A process killed mid-action leaves either no effect or a sealed intent (plus outcome, or in
 * doubt) — never an effect without a sealed intent. The writer is SIGKILLed at several moments;
 * every record in the store must be named by a sealed intent's committed arguments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from '../../src/app/app.ts';
import { passphraseProtector } from '../../src/crypto/passphrase.ts';
import { PASS, prepare } from './fixture.ts';
import { runAndKill } from '../helpers/kill.ts';

const script = path.join(import.meta.dirname, '..', 'fixtures', 'gate-writer.ts');

for (const [writer, kills] of [['inline', [[3, 0], [25, 1], [80, 3], [30, 2]]], ['thread', [[5, 0], [40, 2]]]] as const) {
  test(`SIGKILL mid-action never leaves an effect without a sealed intent (${writer} ledger commits)`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-kill-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    await prepare(dir);
    let app = await App.open(dir, passphraseProtector(PASS));
    const trader = app.principals.create({ tenant: 'northbank', name: 'tom', role: 'member', clearance: 2, attributes: { roles: 'trader', desk: 'rates' } });
    await app.close();
    const acked: number[] = [];
    for (const [i, [after, delay]] of kills.entries()) {
      const a = (await runAndKill(script, [dir, trader.id, String(1000 * (i + 1)), writer], after, delay)).map(Number);
      assert.ok(a.length >= after, `the writer acknowledged only ${a.length} writes`);
      acked.push(...a);
      // After each kill: the stored price was sealed as an intent, and it is at least the last acknowledged one.
      app = await App.open(dir, passphraseProtector(PASS));
      const price = Number(app.deployment.store('northbank').get('trades', 'T-1')!['price']);
      await app.close();
      assert.ok(price >= Math.max(...a), `acknowledged price ${Math.max(...a)} lost (stored ${price})`);
    }
    app = await App.open(dir, passphraseProtector(PASS));
    try {
      const final = Number(app.deployment.store('northbank').get('trades', 'T-1')!['price']);
      const ledger = app.deployment.ledger('northbank');
      const store = app.deployment.ledgerStore('northbank');
      const intended = new Set<number>();
      const outcomes = new Set<number>();
      try {
        for (const e of store.readEntries(0, ledger.size)) {
          const entry = JSON.parse(new TextDecoder().decode(e.bytes)) as { seq: number; kind: string; body: { skill?: { id: string }; intent?: { seq: number } } };
          if (entry.kind === 'intent' && entry.body.skill?.id === 'records.write') {
            const args = ledger.disclose(entry.seq, 'args').payload as { record: { id: string; price: number } };
            intended.add(args.record.price);
          }
          if (entry.kind === 'outcome') outcomes.add(entry.body.intent!.seq);
        }
      } finally { store.close(); }
      assert.ok(intended.has(final), `stored price ${final} was written without a sealed intent`);
      for (const p of acked) assert.ok(intended.has(p), `acknowledged write ${p} has no sealed intent`);
      t.diagnostic(`${acked.length} acknowledged writes across ${kills.length} kills, ${intended.size} sealed intents, ${ledger.inDoubt().length} in doubt, final price ${final}`);
    } finally {
      await app.close();
    }
  });
}
