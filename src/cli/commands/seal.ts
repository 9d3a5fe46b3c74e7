import * as fs from 'node:fs';
import { SiosError } from '../../errors.ts';
import type { Json } from '../../encoding/jcs.ts';
import { need, str, type CommandSpec } from '../args.ts';
import { openDeployment, out, dataOption, passOption } from '../context.ts';

export const command: CommandSpec = {
  help: `sios seal — seal an intent (sign-before-run) and optionally record its outcome

usage: sios seal --tenant T --actor WHO --action WHAT [--args JSON] [--outcome STATUS] [--receipt-out FILE]

The intent is durable and operator-signed before this returns; the receipt printed (or written to
--receipt-out) verifies offline with 'sios verify --receipt'. --args is committed to in the ledger
(salted hash) and stored encrypted in the tenant store, never in clear in the ledger.
Actions normally go through the gate (sios act); this command is for operators and scripts.
`,
  options: { ...dataOption, ...passOption, tenant: { type: 'string' }, actor: { type: 'string' }, action: { type: 'string' }, args: { type: 'string' }, outcome: { type: 'string' }, 'receipt-out': { type: 'string' } },
  async run(a) {
    const tenant = need(a, 'tenant');
    const actor = need(a, 'actor');
    const action = need(a, 'action');
    let payload: Json | undefined;
    const raw = str(a, 'args');
    if (raw !== undefined) {
      if (raw.length > 64 * 1024) throw new SiosError('ERR_TOO_LARGE', '--args is over 64 KiB');
      try { payload = JSON.parse(raw) as Json; } catch (cause) { throw new SiosError('ERR_INPUT', '--args is not valid JSON', { cause }); }
    }
    const d = await openDeployment(a);
    try {
      const l = d.ledger(tenant);
      const receipt = await l.seal({ kind: 'intent', body: { actor, action }, ...(payload === undefined ? {} : { payloads: { args: payload } }) });
      const outcome = str(a, 'outcome');
      if (outcome !== undefined) await l.record({ status: outcome, actor }, receipt);
      const file = str(a, 'receipt-out');
      if (file) { fs.writeFileSync(file, JSON.stringify(receipt, null, 2) + '\n', { flag: 'wx' }); out(`sealed entry ${receipt.seq} of ${tenant}; receipt in ${file}`); }
      else out(JSON.stringify(receipt, null, 2));
    } finally { await d.close(); }
    return 0;
  },
};
