/**
 * The verifier page's Web Worker (inlined into the page as a Blob URL by scripts/build-web.ts).
 *
 * It runs the project's own verifyBundle (src/ledger/verify.ts, unchanged: the code `sios verify`
 * runs) with the browser's verification suite (src/crypto/web.ts: native WebCrypto ML-DSA-65 where
 * the browser has it, @noble/post-quantum elsewhere), keeps the timeline, and answers the page's
 * queries one page at a time. Nothing here touches the network: the bundle arrives as a Blob.
 */
import { webVerifyCrypto } from '../../crypto/web.ts';
import { parsePublicKey } from '../../crypto/pubkey-format.ts';
import { fingerprint, fingerprintForHumans } from '../../crypto/fingerprint.ts';
import { verifyBundle } from '../../ledger/verify.ts';
import type { Entry } from '../../ledger/entry.ts';
import type { VerifyCrypto } from '../../crypto/suite.ts';
import { Timeline } from './timeline.ts';
import { evidenceChecker } from './attestation.ts';
import type { DisclosureStatus, DisclosureView, FromWorker, KeyInfo, ToWorker } from './protocol.ts';

interface WorkerScope {
  postMessage(m: FromWorker): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;
const post = (m: FromWorker): void => scope.postMessage(m);

const MAX_SHOWN = 64 * 1024;
const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/** Every key in the text: PEM blocks, then any remaining bare base64url keys. Throws SiosError. */
function parseKeys(text: string): Uint8Array[] {
  const keys: Uint8Array[] = [];
  for (const m of text.match(PEM_BLOCK) ?? []) keys.push(parsePublicKey(m));
  const rest = text.replace(PEM_BLOCK, ' ').split(/\s+/).filter(Boolean);
  for (const t of rest) keys.push(parsePublicKey(t));
  return keys;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

interface Loaded {
  bytes: Uint8Array;
  /** Start offset of every line. */
  lines: number[];
  timeline: Timeline;
  disclosures: { seq: number; name: string; status: DisclosureStatus; payload: unknown }[];
}
let loaded: Loaded | undefined;

function lineStarts(b: Uint8Array): number[] {
  const out = [0];
  let i = b.indexOf(0x0a);
  while (i >= 0 && i + 1 < b.length) { out.push(i + 1); i = b.indexOf(0x0a, i + 1); }
  return out;
}

function lineText(l: Loaded, n: number, max = MAX_SHOWN): string | undefined {
  const start = l.lines[n];
  if (start === undefined) return undefined;
  let end = l.bytes.indexOf(0x0a, start);
  if (end < 0) end = l.bytes.length;
  const clipped = end - start > max;
  return decoder.decode(l.bytes.subarray(start, clipped ? start + max : end)) + (clipped ? ' …(clipped)' : '');
}

function pretty(v: unknown): string {
  const s = JSON.stringify(v, null, 2) ?? String(v);
  return s.length > MAX_SHOWN ? s.slice(0, MAX_SHOWN) + '\n…(clipped)' : s;
}

/** Header counts, only to size the progress bar and find the disclosure lines; verifyBundle decides validity. */
function headerCounts(l: Loaded): { entries: number; checkpoints: number; disclosures: number } | undefined {
  try {
    const h = JSON.parse(lineText(l, 0) ?? '') as Record<string, unknown>;
    const n = (k: string): number => (typeof h[k] === 'number' && Number.isSafeInteger(h[k]) && (h[k] as number) >= 0 ? h[k] as number : 0);
    return { entries: n('entries'), checkpoints: n('checkpoints'), disclosures: n('disclosures') };
  } catch {
    return undefined;
  }
}

/**
 * The browser's verification suite, unchanged from src/crypto/web.ts: native WebCrypto ML-DSA-65
 * where the browser has it, else @noble/post-quantum; SHA-256 from the audited @noble/hashes.
 * (A hand-written SHA-256 was 2.6x faster in Chromium workers; SIOS writes no crypto primitive.)
 */
async function verifySuite(preferNative: boolean): Promise<VerifyCrypto> {
  return webVerifyCrypto({ preferNative });
}

async function verify(msg: Extract<ToWorker, { type: 'verify' }>): Promise<void> {
  const t0 = performance.now();
  post({ type: 'progress', phase: 'reading', done: 0, total: msg.bundle.size });
  const bytes = new Uint8Array(await msg.bundle.arrayBuffer());
  const tRead = performance.now();
  let tEntries = tRead;
  const trustedKeys = parseKeys(msg.keys);
  const crypto = await verifySuite(msg.preferNative);
  const timeline = new Timeline();
  const l: Loaded = { bytes, lines: [], timeline, disclosures: [] };
  loaded = undefined;

  let total = 0;
  let lastPost = 0;
  let signatures = 0;
  // The header's claims, only to size the progress bar and to know whether this is the system
  // ledger (whose device-identity entries evidence is cross-checked against); verifyBundle decides.
  const claimed = (() => {
    const nl = bytes.indexOf(0x0a);
    try {
      const h = JSON.parse(decoder.decode(bytes.subarray(0, nl < 0 ? Math.min(bytes.length, 1 << 20) : nl))) as { checkpoints?: unknown; tenant?: unknown };
      return { checkpoints: typeof h.checkpoints === 'number' ? h.checkpoints : 0, tenant: typeof h.tenant === 'string' ? h.tenant : undefined };
    } catch { return { checkpoints: 0, tenant: undefined }; }
  })();
  const checkpointCount = claimed.checkpoints;
  const evidence = evidenceChecker(crypto, claimed.tenant);
  const report = await verifyBundle(bytes, {
    crypto,
    trustedKeys,
    verifyEvidence: evidence.verifyEvidence,
    onEntry: (e: Entry) => {
      timeline.add(e);
      evidence.onEntry(e);
      tEntries = performance.now();
      if ((e.seq & 1023) === 1023) {
        const now = performance.now();
        if (now - lastPost > 50) { lastPost = now; post({ type: 'progress', phase: 'entries', done: e.seq + 1, total }); }
      }
    },
    onProgress: (done, t) => {
      total = t;
      if (done === t && t > 0) {
        // verifyBundle reports once per checkpoint whose signature and root it has checked.
        signatures++;
        const now = performance.now();
        if (now - lastPost > 50 || signatures === checkpointCount) { lastPost = now; post({ type: 'progress', phase: 'signatures', done: signatures, total: checkpointCount }); }
      }
    },
  });
  evidence.finish(report);
  const tVerified = performance.now();

  l.lines = lineStarts(bytes);
  const counts = headerCounts(l);
  if (counts) {
    const first = 1 + counts.entries + counts.checkpoints;
    for (let j = 0; j < counts.disclosures; j++) {
      let d: { seq?: unknown; name?: unknown; payload?: unknown } | undefined;
      try { d = (JSON.parse(lineText(l, first + j) ?? '') as { disclose?: typeof d }).disclose; } catch { d = undefined; }
      if (!d || typeof d.seq !== 'number' || typeof d.name !== 'string') continue;
      // verifyBundle checks disclosures in order and counts those that match their commitment.
      const status: DisclosureStatus = j < report.disclosures ? 'matches'
        : j === report.disclosures && report.failure?.reason === 'bad-commitment' ? 'does-not-match' : 'not-checked';
      l.disclosures.push({ seq: d.seq, name: d.name, status, payload: d.payload });
      timeline.markDisclosed(d.seq, status === 'matches' ? d.name : `${d.name} (${status.replace(/-/g, ' ')})`);
    }
  }
  loaded = l;
  const f = report.failure;
  const badLine = f?.seq !== undefined && counts && f.seq < counts.entries ? lineText(l, 1 + f.seq, 4000) : undefined;
  post({
    type: 'done', report, cryptoName: crypto.name, ms: performance.now() - t0,
    phases: { read: tRead - t0, entries: tEntries - tRead, signatures: tVerified - tEntries, index: performance.now() - tVerified }, bytes: bytes.length, rows: timeline.rows.length,
    disclosures: l.disclosures.map(({ seq, name, status }) => ({ seq, name, status })),
    attestation: evidence.ranges(report),
    ...(badLine === undefined ? {} : { badLine }),
  });
}

async function keyInfo(id: number, text: string): Promise<void> {
  // Fingerprints need only SHA-256; the suite without the native probe is enough.
  const c = await webVerifyCrypto({ preferNative: false });
  let keys: KeyInfo[];
  try {
    keys = parseKeys(text).map((k) => {
      const fp = fingerprint(c, k);
      return { fingerprint: fp, human: fingerprintForHumans(fp) };
    });
  } catch (e) {
    post({ type: 'keys', id, keys: [], error: (e as Error).message });
    return;
  }
  post({ type: 'keys', id, keys });
}

function entry(id: number, seq: number): void {
  const l = loaded;
  if (!l) return;
  const raw = lineText(l, 1 + seq);
  let json = raw ?? '';
  try { json = pretty(JSON.parse(raw ?? '')); } catch { /* shown raw: it is not JSON */ }
  const disclosures: DisclosureView[] = l.disclosures.filter((d) => d.seq === seq).map((d) => ({ name: d.name, status: d.status, payload: pretty(d.payload) }));
  post({ type: 'entry', id, seq, json, row: l.timeline.rows[seq] ?? null, disclosures });
}

scope.onmessage = (ev: MessageEvent<ToWorker>): void => {
  const msg = ev.data;
  try {
    switch (msg.type) {
      case 'keys':
        keyInfo(msg.id, msg.text).catch((e: unknown) => post({ type: 'fatal', message: (e as Error)?.message ?? String(e) }));
        return;
      case 'verify':
        verify(msg).catch((e: unknown) => post({ type: 'fatal', message: (e as Error)?.message ?? String(e) }));
        return;
      case 'query': {
        const l = loaded;
        if (!l) { post({ type: 'rows', id: msg.id, total: 0, offset: 0, rows: [] }); return; }
        let offset = msg.offset;
        if (msg.focus !== undefined) {
          const at = l.timeline.indexOf(msg.focus, msg.text, msg.filter);
          if (at >= 0) offset = at - (at % msg.limit);
        }
        const r = l.timeline.query(msg.text, msg.filter, offset, msg.limit);
        post({ type: 'rows', id: msg.id, total: r.total, offset: r.offset, rows: r.rows });
        return;
      }
      case 'entry':
        entry(msg.id, msg.seq);
        return;
    }
  } catch (e) {
    post({ type: 'fatal', message: (e as Error)?.message ?? String(e) });
  }
};
