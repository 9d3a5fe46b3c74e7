/**
 * `sios sentinel scan`: the stable, outside-facing way to evaluate Sentinel's detector.
 *
 * Reads JSON Lines {"id": ..., "text": "..."} on standard input, writes one JSON line per input line:
 *   {"id": ..., "verdict": "injection" | "clean", "score": 0..1, "reasons": [...]}
 * or, for a line that cannot be scanned, a per-line error (the stream goes on):
 *   {"id": <id or null>, "line": N, "error": {"code": "ERR_INPUT" | "ERR_TOO_LARGE" | "ERR_ENCODING", "message": "..."}}
 * Streaming: lines are processed as they arrive; a line longer than --max-line-bytes (default 4 MiB) is
 * skipped without being buffered and reported as ERR_TOO_LARGE. Blank lines are ignored.
 * Exit status 0 when the input was read to the end (even with per-line errors).
 */
import { SiosError } from '../../errors.ts';
import { str, type CommandSpec, type ParsedArgs } from '../args.ts';
import { defaultDetector, OPERATING_THRESHOLD } from '../../sentinel/index.ts';
import type { Detector } from '../../sentinel/detector.ts';
import { Quarantine } from '../../sentinel/quarantine.ts';
import { migrateAuth, PrincipalStore } from '../../auth/index.ts';
import { dataOption, passOption, openDeployment, out, table } from '../context.ts';

export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

const help = `sios sentinel scan — detect prompt injection in untrusted text

usage: sios sentinel scan [--max-line-bytes N] < input.jsonl > verdicts.jsonl

Input:  one JSON object per line: {"id": <any JSON value>, "text": "<string>"}
Output: one line per input line, in order:
  {"id": ..., "verdict": "injection"|"clean", "score": 0..1, "reasons": [...]}
  or {"id": ..., "line": N, "error": {"code": ..., "message": ...}} for a malformed line.

Operating threshold: verdict is "injection" when score >= ${OPERATING_THRESHOLD}. The threshold is
fixed; the shipped model maps its calibrated operating point (<= 1% false positives on held-back
benign documents at training time) to ${OPERATING_THRESHOLD}. Use the score to choose another point.

Options:
  --max-line-bytes N   longest accepted input line in bytes (default ${DEFAULT_MAX_LINE_BYTES})

sios sentinel quarantine list --tenant T [--status held|released] [--data DIR]
  Context items Sentinel kept from brains (judged injection), with verdict, score and source.
sios sentinel quarantine show --tenant T --item ID [--data DIR]
  The held content, decrypted (shown as data; never given to a brain).
sios sentinel quarantine release --tenant T --item ID --by PRINCIPAL_ID --reason TEXT [--data DIR]
  A named person releases an item (a sealed 'quarantine' entry in the tenant's ledger).
  The passphrase comes from --passphrase-file or $SIOS_PASSPHRASE.
`;

type Out = (line: string) => void | Promise<void>;

function errorLine(line: number, id: unknown, code: string, message: string): string {
  return JSON.stringify({ id: id ?? null, line, error: { code, message } });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Scan one JSONL line (bytes without the newline) into one output line. Never throws for bad input. */
export function scanLine(det: Detector, bytes: Uint8Array, lineNo: number): string | null {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return errorLine(lineNo, null, 'ERR_ENCODING', 'line is not valid UTF-8; send UTF-8 JSON Lines');
  }
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.trim() === '') return null;
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return errorLine(lineNo, null, 'ERR_INPUT', `line is not valid JSON (${(e as Error).message}); send one {"id": ..., "text": "..."} object per line`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    return errorLine(lineNo, null, 'ERR_INPUT', 'line must be a JSON object {"id": ..., "text": "..."}');
  }
  const rec = obj as Record<string, unknown>;
  const id = rec['id'];
  if (!Object.hasOwn(rec, 'id')) return errorLine(lineNo, null, 'ERR_INPUT', 'missing "id"; give every line an id to match verdicts to inputs');
  if (typeof rec['text'] !== 'string') return errorLine(lineNo, id, 'ERR_INPUT', '"text" must be a string');
  const v = det.scan(rec['text']);
  return JSON.stringify({ id, verdict: v.verdict, score: v.score, reasons: v.reasons });
}

/**
 * Stream JSONL from `input` to `out`. Memory is bounded by `maxLineBytes`: an over-long line is
 * dropped chunk by chunk until its newline and reported once.
 */
export async function scanStream(input: AsyncIterable<Uint8Array>, out: Out, opts: { maxLineBytes?: number; detector?: Detector } = {}): Promise<{ lines: number; errors: number }> {
  const max = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const det = opts.detector ?? defaultDetector();
  let parts: Uint8Array[] = [];
  let size = 0;
  let tooLong = false;
  let lineNo = 0;
  let errors = 0;
  const finish = async (): Promise<void> => {
    lineNo++;
    let line: string | null;
    if (tooLong) {
      line = errorLine(lineNo, null, 'ERR_TOO_LARGE', `line is longer than ${max} bytes; split the text or raise --max-line-bytes`);
    } else {
      const buf = new Uint8Array(size);
      let o = 0;
      for (const p of parts) { buf.set(p, o); o += p.length; }
      line = scanLine(det, buf, lineNo);
    }
    parts = []; size = 0; tooLong = false;
    if (line === null) return;
    if (line.startsWith('{"id":') && line.includes(',"error":{"code":')) errors++;
    await out(line + '\n');
  };
  for await (const chunk of input) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (!tooLong) {
        if (size + (end - start) > max) { tooLong = true; parts = []; size = 0; }
        else { parts.push(chunk.slice(start, end)); size += end - start; }
      }
      if (nl < 0) break;
      await finish();
      start = nl + 1;
    }
  }
  if (size > 0 || tooLong) await finish();
  return { lines: lineNo, errors };
}

export const command: CommandSpec = {
  help,
  options: {
    'max-line-bytes': { type: 'string' }, tenant: { type: 'string' }, status: { type: 'string' }, item: { type: 'string' },
    by: { type: 'string' }, reason: { type: 'string' }, ...dataOption, ...passOption,
  },
  async run(args: ParsedArgs): Promise<number> {
    const sub = args.positionals[0];
    if (sub === 'quarantine') return quarantineCommand(args);
    if (sub !== 'scan' || args.positionals.length !== 1) {
      throw new SiosError('ERR_INPUT', `unknown or missing subcommand '${sub ?? ''}'; use 'sios sentinel scan' or 'sios sentinel quarantine list|show|release'. See --help`);
    }
    let maxLineBytes = DEFAULT_MAX_LINE_BYTES;
    const m = str(args, 'max-line-bytes');
    if (m !== undefined) {
      if (!/^[0-9]{1,12}$/.test(m) || Number(m) < 1) throw new SiosError('ERR_INPUT', `--max-line-bytes must be a positive integer, got '${m}'`);
      maxLineBytes = Number(m);
    }
    const detector = defaultDetector();
    const write = (s: string): void | Promise<void> => {
      // Respect back-pressure so a fast producer cannot make us buffer unbounded output.
      if (process.stdout.write(s)) return;
      return new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
    };
    await scanStream(process.stdin, write, { maxLineBytes, detector });
    return 0;
  },
};

function needOpt(args: ParsedArgs, name: string): string {
  const v = str(args, name);
  if (v === undefined || v === '') throw new SiosError('ERR_INPUT', `--${name} is required. See --help`);
  return v;
}

async function quarantineCommand(args: ParsedArgs): Promise<number> {
  const action = args.positionals[1];
  if (args.positionals.length !== 2 || (action !== 'list' && action !== 'show' && action !== 'release')) {
    throw new SiosError('ERR_INPUT', `use 'sios sentinel quarantine list|show|release'. See --help`);
  }
  const tenant = needOpt(args, 'tenant');
  const d = await openDeployment(args);
  try {
    migrateAuth(d.systemDb);
    const principals = new PrincipalStore(d.systemDb);
    const q = new Quarantine({
      tenant, db: d.tenantDb(tenant), dataKey: d.tenantDataKey(tenant),
      seal: (kind, body) => d.ledger(tenant).seal({ kind, body }),
      person: (id) => {
        const p = principals.requireActive(id);
        if (p.tenant !== tenant) throw new SiosError('ERR_FORBIDDEN', `${id} is not a person of tenant ${tenant}; a release is decided inside the tenant`);
        if (p.role === 'auditor') throw new SiosError('ERR_FORBIDDEN', 'auditors read the ledger; they cannot release quarantined content');
        return { name: p.name };
      },
    });
    if (action === 'list') {
      const status = str(args, 'status');
      if (status !== undefined && status !== 'held' && status !== 'released') throw new SiosError('ERR_INPUT', "--status must be 'held' or 'released'");
      const items = q.list(status === undefined ? {} : { status });
      out(table(['id', 'status', 'score', 'source', 'when', 'reasons'], items.map((i) => [
        i.id, i.status + (i.releasedBy ? ` by ${i.releasedBy}` : ''), i.score.toFixed(3), i.source, new Date(i.createdAt).toISOString(), i.reasons.slice(0, 3).join(', '),
      ])));
      out(`${items.length} item(s)`);
    } else if (action === 'show') {
      const id = needOpt(args, 'item');
      out(JSON.stringify({ item: q.get(id), content: q.content(id) }, null, 2));
    } else {
      const r = await q.release(needOpt(args, 'item'), needOpt(args, 'by'), needOpt(args, 'reason'));
      out(`released ${r.item.id} by ${r.item.releasedBy} (ledger entry ${r.item.releaseSeq}); it is untrusted context again`);
    }
    return 0;
  } finally {
    await d.close();
  }
}
