import { runDemo } from '../../demo/demo.ts';
import { flag, str, type CommandSpec } from '../args.ts';

export const command: CommandSpec = {
  help: `sios demo — SIOS's main job on the embedded default, end to end

usage: sios demo [--data DIR]

Creates a deployment (default: a new temporary folder) with two tenants, runs scripted brains
through the gate (reads, a write, a cross-tenant attempt, a refused clearance, a vetoed and an
approved high-impact export with a passkey approval, a revocation), then exports and verifies both
ledgers offline and prints what happened. Exit status 0 when everything behaved as expected.
`,
  options: { data: { type: 'string' }, 'no-color': { type: 'boolean' } },
  async run(args) {
    const dir = str(args, 'data');
    const r = await runDemo({ ...(dir ? { dir } : {}), write: (s) => process.stdout.write(s), color: process.stdout.isTTY === true && !flag(args, 'no-color') });
    return r.ok ? 0 : 1;
  },
};
