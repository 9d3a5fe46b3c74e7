/**
 * `sios doctor`: is this deployment sovereign right now? Perimeter checks (no listener beyond
 * loopback, no outbound connection, no default route used, bubblewrap usable, egress policies),
 * key protection at rest, ledger integrity against the last signed checkpoints, and the
 * attestation mode (TPM 2.0 or explicitly unattested software mode).
 */
import * as fs from 'node:fs';
import type { DoctorCheck } from '../perimeter/doctor.ts';
import { perimeterDoctorFor } from '../perimeter/store.ts';
import { attestationStatus } from '../attestation/doctor.ts';
import { readKeyFile, keyFileInfo } from '../crypto/keystore.ts';
import { layout } from './layout.ts';
import { readConfig, SYSTEM_TENANT } from './deployment.ts';
import { SqliteLedgerStore } from '../store/sqlite-ledger.ts';
import { MerkleTree } from '../ledger/merkle.ts';
import { parseSignedCheckpoint } from '../ledger/note.ts';
import { nodeVerifyCrypto } from '../crypto/node.ts';

export interface DoctorOptions {
  allowedListeners?: string[];
  tcti?: string;
}

export async function doctor(dir: string, o: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const L = layout(dir);
  const config = readConfig(dir);
  // Keys: encrypted at rest, file private.
  try {
    const st = fs.statSync(L.keyFile);
    const info = keyFileInfo(readKeyFile(L.keyFile));
    const priv = (st.mode & 0o077) === 0;
    checks.push({ name: 'operator key encrypted at rest', ok: info.protectors.length > 0 && priv, detail: `${info.protectors.join(' + ')}; file mode ${(st.mode & 0o777).toString(8)}${priv ? '' : ' (others can read it: chmod 600)'}` });
  } catch (e) {
    checks.push({ name: 'operator key encrypted at rest', ok: false, detail: (e as Error).message });
  }
  // Ledgers: each matches its last signed checkpoint.
  const tenants = [SYSTEM_TENANT, ...(fs.existsSync(L.tenantsDir) ? fs.readdirSync(L.tenantsDir) : [])];
  let bad = 0, entries = 0;
  const problems: string[] = [];
  for (const t of tenants) {
    const store = t === SYSTEM_TENANT ? new SqliteLedgerStore(L.systemDb) : fs.existsSync(L.tenantDb(t)) ? new SqliteLedgerStore(L.tenantDb(t)) : undefined;
    if (!store) continue;
    try {
      const tree = new MerkleTree(nodeVerifyCrypto);
      for (const leaf of store.loadLeaves()) tree.appendLeafHash(leaf);
      const cp = store.latestCheckpoint();
      entries += tree.size;
      if (cp) {
        const sc = parseSignedCheckpoint(cp.note);
        const root = tree.root(cp.size);
        if (!root.every((b, i) => b === sc.checkpoint.root[i])) { bad++; problems.push(`${t}: entries differ from the signed checkpoint`); }
      }
    } catch (e) {
      bad++; problems.push(`${t}: ${(e as Error).message}`);
    } finally { store.close(); }
  }
  checks.push({ name: 'ledgers match their signed checkpoints', ok: bad === 0, detail: bad === 0 ? `${tenants.length} ledgers, ${entries} entries` : problems.join('; ') });
  // Attestation.
  const tcti = o.tcti ?? (config.attestation.mode === 'tpm2' ? config.attestation.tcti : undefined);
  const att = await attestationStatus({ stateDir: L.dir + '/tpm', ...(tcti ? { tcti } : {}) });
  checks.push({ name: 'attestation', ok: true, detail: att.mode === 'tpm2' ? att.reason : `UNATTESTED software mode — ${att.reason}` });
  checks.push({ name: 'deployment', ok: true, detail: `${config.id}, operator key ${config.operator.fingerprint.slice(0, 23)}…, checkpoints declare '${config.attestation.mode}'` });
  checks.push(...perimeterDoctorFor(dir, nodeVerifyCrypto, { allowedListeners: o.allowedListeners ?? [] }));
  return checks;
}
