import * as fs from 'node:fs';
import { SiosError } from '../../errors.ts';
import { nodeVerifyCrypto } from '../../crypto/node.ts';
import { exportBundle } from '../../ledger/export.ts';
import { parseEntry } from '../../ledger/entry.ts';
import { fromUtf8 } from '../../encoding/bytes.ts';
import { readConfig, SYSTEM_TENANT } from '../../deployment/deployment.ts';
import { flag, need, str, type CommandSpec } from '../args.ts';
import { dataDir, dataOption, openDeployment, out, passOption, table } from '../context.ts';
import { SqliteLedgerStore } from '../../store/sqlite-ledger.ts';
import { layout } from '../../deployment/layout.ts';
import { parsePublicKey } from '../../crypto/pubkey-format.ts';
import { evidenceForCheckpoints } from '../../deployment/attested.ts';

export const command: CommandSpec = {
  help: `sios ledger — tenant ledgers

usage:
  sios ledger list                                   every ledger with its size and latest checkpoint time
  sios ledger show --tenant T [--last N]             the latest entries as a table
  sios ledger export --tenant T [--out FILE] [--checkpoints all|latest] [--disclose SEQ:NAME ...]
                                                     write a self-contained bundle for offline verification
                                                     (TPM deployments: with the evidence its checkpoints name)
  sios ledger checkpoint --tenant T                  print the latest signed checkpoint (keep it for --since)
  sios ledger in-doubt --tenant T                    intents sealed without an outcome (after a crash)
  sios ledger prove --tenant T --from SIZE           RFC 9162 consistency proof from SIZE to now
Use --tenant system for the deployment's own ledger. --disclose needs the passphrase (payloads are encrypted).
`,
  options: { ...dataOption, ...passOption, tenant: { type: 'string' }, out: { type: 'string' }, last: { type: 'string' }, checkpoints: { type: 'string' }, disclose: { type: 'string', multiple: true }, from: { type: 'string' } },
  async run(args) {
    const sub = args.positionals[0];
    const dir = dataDir(args);
    const config = readConfig(dir);
    const storeOf = (t: string): SqliteLedgerStore => {
      if (t === SYSTEM_TENANT) return new SqliteLedgerStore(layout(dir).systemDb);
      const p = layout(dir).tenantDb(t);
      if (!fs.existsSync(p)) throw new SiosError('ERR_NOT_FOUND', `no ledger for tenant '${t}' in ${dir}; 'sios ledger list' shows the tenants`);
      return new SqliteLedgerStore(p);
    };
    switch (sub) {
      case 'list': {
        const names = [SYSTEM_TENANT, ...(fs.existsSync(layout(dir).tenantsDir) ? fs.readdirSync(layout(dir).tenantsDir).sort() : [])];
        const rows = names.map((t) => {
          const s = storeOf(t);
          try {
            const cp = s.latestCheckpoint();
            return [t, cp?.size ?? 0, cp ? (/sios-time (\S+)/.exec(cp.note)?.[1] ?? '') : '-', s.openIntents().length];
          } finally { s.close(); }
        });
        out(table(['ledger', 'entries', 'latest checkpoint', 'in doubt'], rows));
        return 0;
      }
      case 'show': {
        const t = need(args, 'tenant');
        const s = storeOf(t);
        try {
          const size = s.latestCheckpoint()?.size ?? 0;
          const last = Math.min(Math.max(1, Number(str(args, 'last') ?? '20') || 20), 10_000);
          const rows = s.readEntries(Math.max(0, size - last), size).map((e) => {
            const x = parseEntry(fromUtf8(e.bytes), e.seq);
            const b = x.body as Record<string, unknown>;
            const what = String(b['action'] ?? b['skill'] ?? b['status'] ?? '');
            return [x.seq, x.time.replace('T', ' ').replace('Z', ''), x.kind, String(b['actor'] ?? b['principal'] ?? ''), what.slice(0, 40), e.ref === null ? '' : `→ ${e.ref}`];
          });
          out(table(['seq', 'time (UTC)', 'kind', 'actor', 'what', 'closes'], rows));
        } finally { s.close(); }
        return 0;
      }
      case 'export': {
        const t = need(args, 'tenant');
        const mode = str(args, 'checkpoints') ?? 'all';
        if (mode !== 'all' && mode !== 'latest') throw new SiosError('ERR_INPUT', '--checkpoints is all or latest');
        const disclose = (args.values['disclose'] as string[] | undefined) ?? [];
        const disclosures = [];
        if (disclose.length) {
          const d = await openDeployment(args);
          try {
            for (const spec of disclose) {
              const m = /^(\d+):([\w.-]+)$/.exec(spec);
              if (!m) throw new SiosError('ERR_INPUT', `--disclose takes SEQ:NAME (for example 12:args), got '${spec}'`);
              disclosures.push(d.ledger(t).disclose(Number(m[1]), m[2] as string));
            }
          } finally { await d.close(); }
        }
        const s = storeOf(t);
        const file = str(args, 'out');
        const fd = file ? fs.openSync(file, 'wx', 0o644) : 1;
        try {
          const pub = parsePublicKey(fs.readFileSync(layout(dir).publicKey, 'utf8'));
          const r = exportBundle(s, { origin: `sios/${config.id}/${t}`, tenant: t, crypto: nodeVerifyCrypto, publicKeys: [pub], checkpoints: mode, disclosures, evidenceFor: (notes) => evidenceForCheckpoints(layout(dir).systemDb, notes) }, (chunk) => { fs.writeSync(fd, chunk); });
          if (file) { fs.fsyncSync(fd); process.stderr.write(`Exported ${r.entries} entries and ${r.checkpoints} checkpoints of ${t} to ${file}\n`); }
        } finally {
          if (file) fs.closeSync(fd);
          s.close();
        }
        return 0;
      }
      case 'checkpoint': {
        const s = storeOf(need(args, 'tenant'));
        try {
          const cp = s.latestCheckpoint();
          if (!cp) throw new SiosError('ERR_NOT_FOUND', 'this ledger has no checkpoint yet');
          process.stdout.write(cp.note);
        } finally { s.close(); }
        return 0;
      }
      case 'in-doubt': {
        const s = storeOf(need(args, 'tenant'));
        try {
          const ids = s.openIntents();
          if (flag(args, 'json')) out(JSON.stringify(ids));
          else out(ids.length ? `${ids.length} intent(s) without an outcome: ${ids.join(', ')}` : 'no intents in doubt');
        } finally { s.close(); }
        return 0;
      }
      case 'prove': {
        const t = need(args, 'tenant');
        const from = Number(need(args, 'from'));
        const d = await openDeployment(args);
        try {
          const l = d.ledger(t);
          if (!Number.isSafeInteger(from) || from < 1 || from > l.size) throw new SiosError('ERR_INPUT', `--from must be between 1 and ${l.size}`);
          out(JSON.stringify({ origin: l.origin, from, to: l.size, proof: l.consistencyProof(from), checkpoint: l.latestCheckpoint() }, null, 2));
        } finally { await d.close(); }
        return 0;
      }
      default:
        throw new SiosError('ERR_INPUT', `unknown 'sios ledger' action '${sub ?? ''}': use list, show, export, checkpoint, in-doubt or prove`);
    }
  },
};
