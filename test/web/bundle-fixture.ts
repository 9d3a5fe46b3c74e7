/**
 * Real exported ledger bundles for the verifier page's tests and benchmark: a real Ledger on a real
 * SQLite store, signed with a fresh ML-DSA-65 key (node:crypto), exported with exportBundle. The
 * entries look like what the gate seals: intents with actor, brain, skill, policy decision and
 * approvals (sensitive arguments as salted commitments), outcomes linked to their intents, some
 * intents left in doubt, some payloads disclosed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeVerifyCrypto, newSeed, randomBytes, softwareSigner } from '../../src/crypto/node.ts';
import { openAead, sealAead } from '../../src/crypto/aead.ts';
import { publicKeyToPem } from '../../src/crypto/pubkey-format.ts';
import { fingerprint } from '../../src/crypto/fingerprint.ts';
import type { Json } from '../../src/encoding/jcs.ts';
import { Ledger, type Receipt } from '../../src/ledger/ledger.ts';
import { exportBundle } from '../../src/ledger/export.ts';
import { SqliteLedgerStore } from '../../src/store/sqlite-ledger.ts';

export interface FixtureBundle {
  /** The exported bundle, exactly as `sios ledger export` writes it. */
  text: string;
  origin: string;
  tenant: string;
  entries: number;
  /** The operator public key as a PEM file's text, and its fingerprint ("SHA256:<hex>"). */
  publicKeyPem: string;
  fingerprint: string;
  /** Sequence numbers of intents left without an outcome. */
  inDoubt: number[];
  disclosed: number[];
}

const ACTORS = ['dr.okafor', 'nurse.lindqvist', 'pharm.haddad', 'dr.moreau', 'clerk.tanaka'];
const BRAINS = ['triage-7b', 'pharmacy-assist', 'summarise-notes'];
const SKILLS = ['records.read', 'prescribe.draft', 'labs.order', 'notes.summarise', 'referral.send'];

function intentBody(i: number): Record<string, Json> {
  const skill = SKILLS[i % SKILLS.length] as string;
  const needsApproval = skill === 'prescribe.draft' || skill === 'referral.send';
  const body: Record<string, Json> = {
    actor: ACTORS[i % ACTORS.length] as string,
    brain: BRAINS[(i >> 1) % BRAINS.length] as string,
    skill,
    decision: { decision: 'allow', policyIds: [`${skill.split('.')[0]}.skill`] },
  };
  if (needsApproval) {
    body['approvals'] = [
      { brain: BRAINS[(i + 1) % BRAINS.length] as string, verdict: 'approve' },
      { human: ACTORS[(i + 3) % ACTORS.length] as string, method: 'webauthn' },
    ];
  }
  return body;
}

export interface FixtureOptions {
  tenant?: string;
  /** Number of intents; each gets an outcome except every `doubtEvery`-th. */
  intents: number;
  doubtEvery?: number;
  /** How many intents are sealed concurrently (group commit); 1 gives a checkpoint per entry. */
  concurrency?: number;
  /** Disclose the 'args' payload of these intent indexes. */
  disclose?: number[];
}

/** Builds and exports a real bundle in a temporary directory (removed before returning). */
export async function makeBundle(o: FixtureOptions): Promise<FixtureBundle> {
  const tenant = o.tenant ?? 'st-marys-ward-7';
  const origin = `sios/hospital-a/${tenant}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-web-bundle-'));
  try {
    const signer = softwareSigner(newSeed());
    const key = randomBytes(32);
    const cipher = { seal: (p: Uint8Array, a: Uint8Array) => sealAead(key, p, a), open: (s: Uint8Array, a: Uint8Array) => openAead(key, s, a) };
    const dbPath = path.join(dir, `${tenant}.db`);
    const store = new SqliteLedgerStore(dbPath);
    const ledger = Ledger.open({ tenant, origin, store, signer, crypto: nodeVerifyCrypto, random: randomBytes, cipher });
    const conc = Math.max(1, o.concurrency ?? 1);
    const doubtEvery = o.doubtEvery ?? 0;
    const wantDisclose = new Set(o.disclose ?? []);
    const disclosures: { seq: number; name: string; salt: string; payload: Json }[] = [];
    const inDoubt: number[] = [];
    for (let start = 0; start < o.intents; start += conc) {
      const n = Math.min(conc, o.intents - start);
      const intents: Receipt[] = await Promise.all(Array.from({ length: n }, (_, j) => {
        const i = start + j;
        return ledger.seal({ kind: 'intent', body: intentBody(i), payloads: { args: { patient: `P-${100000 + (i * 7919) % 900000}`, note: `request ${i}` } } });
      }));
      const outcomes: Promise<Receipt>[] = [];
      intents.forEach((r, j) => {
        const i = start + j;
        if (wantDisclose.has(i)) disclosures.push(ledger.disclose(r.seq, 'args'));
        if (doubtEvery > 0 && i % doubtEvery === doubtEvery - 1) { inDoubt.push(r.seq); return; }
        const status = i % 23 === 5 ? 'error' : i % 17 === 3 ? 'denied' : 'ok';
        outcomes.push(ledger.record(status === 'error' ? { status, error: 'upstream EHR timed out' } : { status }, r));
      });
      await Promise.all(outcomes);
    }
    await ledger.close();
    const exportStore = new SqliteLedgerStore(dbPath);
    const chunks: string[] = [];
    let entries = 0;
    try {
      entries = exportBundle(exportStore, { origin, tenant, crypto: nodeVerifyCrypto, publicKeys: [signer.publicKey], disclosures }, (s) => { chunks.push(s); }).entries;
    } finally {
      exportStore.close();
    }
    return {
      text: chunks.join(''), origin, tenant, entries,
      publicKeyPem: publicKeyToPem(signer.publicKey), fingerprint: fingerprint(nodeVerifyCrypto, signer.publicKey),
      inDoubt, disclosed: disclosures.map((d) => d.seq),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh, unrelated operator key (for the wrong-key case). */
export function otherKeyPem(): string {
  return publicKeyToPem(softwareSigner(newSeed()).publicKey);
}

/**
 * Alter entry `seq` of a bundle the way an insider editing the file would: change one character of
 * the entry's body to another printable one, so the line stays valid JSON and the chain must catch it.
 */
export function tamperEntry(bundle: string, seq: number): string {
  const lines = bundle.split('\n');
  const idx = seq + 1; // line 0 is the header
  const line = lines[idx];
  if (line === undefined) throw new Error(`bundle has no entry ${seq}`);
  const m = /"actor":"([^"])/.exec(line) ?? /"status":"([^"])/.exec(line);
  if (!m) throw new Error(`entry ${seq} has no actor or status to alter`);
  const at = m.index + m[0].length - 1;
  const ch = line[at] === 'x' ? 'y' : 'x';
  lines[idx] = line.slice(0, at) + ch + line.slice(at + 1);
  return lines.join('\n');
}
