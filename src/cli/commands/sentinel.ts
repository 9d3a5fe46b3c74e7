/**
 * `sios sentinel scan`: the stable, outside-facing way to evaluate Sentinel's detector.
 *
 * Reads JSON Lines {"id": ..., "text": "..."} on standard input, writes one JSON line per input line:
 *   {"id": ..., "verdict": "injection" | "clean", "score": 0..1, "reasons": [...]}
 * or, for a line that cannot be scanned, a per-line error (the stream goes on):
 *   {"id": <id or null>, "line": N, "error": {"code": "ERR_INPUT" | "ERR_TOO_LARGE" | "ERR_ENCODING" | "ERR_TIMEOUT", "message": "..."}}
 * Streaming: lines are processed as they arrive; a line longer than --max-line-bytes (default 4 MiB) is
 * skipped without being buffered and reported as ERR_TOO_LARGE. Blank lines are ignored.
 * Exit status 0 when the input was read to the end (even with per-line errors).
 *
 * `--plugin DIR` adds an operator-supplied ONNX classifier (sentinel/onnx/): the pack is verified
 * against the operator key of the data directory before the first line is read, and a pack that
 * does not verify stops the command (fail closed). The output contract is the same.
 * `sios sentinel plugin sign|verify` signs a pack the operator obtained elsewhere and checks one.
 */
import * as fs from 'node:fs';
import { SiosError } from '../../errors.ts';
import { str, type CommandSpec, type ParsedArgs } from '../args.ts';
import { defaultDetector, OPERATING_THRESHOLD } from '../../sentinel/index.ts';
import type { Verdict } from '../../sentinel/detector.ts';
import { Quarantine } from '../../sentinel/quarantine.ts';
import { migrateAuth, PrincipalStore } from '../../auth/index.ts';
import { TrustedPublishers } from '../../skills/envelope.ts';
import { parsePublicKey } from '../../crypto/pubkey-format.ts';
import { fingerprint } from '../../crypto/fingerprint.ts';
import { nodeVerifyCrypto } from '../../crypto/node.ts';
import { layout } from '../../deployment/layout.ts';
import { readConfig } from '../../deployment/deployment.ts';
import { dataDir, dataOption, passOption, openDeployment, out, table } from '../context.ts';
import type { SignPackInput } from '../../sentinel/onnx/index.ts';

export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

const help = `sios sentinel scan — detect prompt injection in untrusted text

usage: sios sentinel scan [--max-line-bytes N] [--plugin DIR [--data DIR] [--publisher PEM ...]] < input.jsonl > verdicts.jsonl

Input:  one JSON object per line: {"id": <any JSON value>, "text": "<string>"}
Output: one line per input line, in order:
  {"id": ..., "verdict": "injection"|"clean", "score": 0..1, "reasons": [...]}
  or {"id": ..., "line": N, "error": {"code": ..., "message": ...}} for a malformed line.

Operating threshold: verdict is "injection" when score >= ${OPERATING_THRESHOLD}. The threshold is
fixed; the shipped model maps its calibrated operating point (<= 1% false positives on held-back
benign documents at training time) to ${OPERATING_THRESHOLD}. Use the score to choose another point.

Options:
  --max-line-bytes N   longest accepted input line in bytes (default ${DEFAULT_MAX_LINE_BYTES})
  --plugin DIR         also run the ONNX classifier of the signed detector pack in DIR (see below);
                       score = max(built-in score, the pack's calibrated score), and its reason
                       reads "onnx:<id>@<version>:<probability>". The pack must verify against the
                       operator key of --data DIR (or an extra --publisher PEM), or nothing is scanned.
                       A text over the plug-in's bounds (262144 characters, 256 token windows)
                       gets an ERR_TOO_LARGE line; one whose scan runs past 60 s is stopped and
                       gets an ERR_TIMEOUT line.

sios sentinel plugin sign --dir DIR --id ID --version V --licence SPDX --builder WHO --source WHAT
                          --threshold P --injection-index K [--description TEXT] [--built TIME]
                          [--max-tokens 512] [--stride-tokens N] [--model model.onnx]
                          [--tokenizer tokenizer.json] [--tokenizer-config tokenizer_config.json]
                          [--input-ids NAME] [--attention-mask NAME] [--token-type-ids NAME] [--output NAME]
                          [--data DIR] [--passphrase-file FILE]
  Sign a detector pack you obtained elsewhere with the operator key: measures the files (SHA-256,
  size), runs the model once to check tensor names and the output, and writes DIR/sios-detector.json.
  --threshold is the injection probability you calibrated as the operating point (mapped to
  score ${OPERATING_THRESHOLD}); --injection-index is the logit index of the injection ("malicious") class.
  Tensor names default to input_ids / attention_mask / token_type_ids as the model has them and to
  its only output (or "logits"); --stride-tokens defaults to half of --max-tokens; --built (RFC 3339
  UTC, when the model was built) defaults to the time of signing.
sios sentinel plugin verify --dir DIR [--data DIR] [--publisher PEM ...]
  Check a pack as 'scan --plugin' would (signature, every file's digest, the model loads and runs).

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

/** The built-in Detector, or the built-in detector with an ONNX plug-in (async). */
export interface LineScanner { scan(text: string): Verdict | Promise<Verdict> }

/**
 * Scan one JSONL line (bytes without the newline) into one output line. Never throws for bad input;
 * a text over the plug-in's size bound is a per-line ERR_TOO_LARGE, one it stopped past its time limit
 * a per-line ERR_TIMEOUT. Faults of the detector itself
 * (a broken model) are thrown: the stream stops rather than report unscanned text.
 */
export async function scanLine(det: LineScanner, bytes: Uint8Array, lineNo: number): Promise<string | null> {
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
  let v: Verdict;
  try {
    v = await det.scan(rec['text']);
  } catch (e) {
    // Over the plug-in's bounds, or stopped past its time limit: this text was not scanned, and says so.
    if (e instanceof SiosError && (e.code === 'ERR_TOO_LARGE' || e.code === 'ERR_TIMEOUT')) return errorLine(lineNo, id, e.code, e.message);
    throw e;
  }
  return JSON.stringify({ id, verdict: v.verdict, score: v.score, reasons: v.reasons });
}

/**
 * Stream JSONL from `input` to `out`. Memory is bounded by `maxLineBytes`: an over-long line is
 * dropped chunk by chunk until its newline and reported once.
 */
export async function scanStream(input: AsyncIterable<Uint8Array>, out: Out, opts: { maxLineBytes?: number; detector?: LineScanner } = {}): Promise<{ lines: number; errors: number }> {
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
      line = await scanLine(det, buf, lineNo);
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

const SCAN_OPTIONS = ['max-line-bytes', 'plugin', 'publisher', 'data'];
const VERIFY_OPTIONS = ['dir', 'publisher', 'data'];
const SIGN_OPTIONS = [
  'dir', 'id', 'version', 'licence', 'description', 'builder', 'source', 'built', 'threshold', 'injection-index', 'max-tokens',
  'stride-tokens', 'model', 'tokenizer', 'tokenizer-config', 'input-ids', 'attention-mask', 'token-type-ids', 'output', 'data', 'passphrase-file',
];

/** An option another subcommand takes is an error here, never silently ignored. */
function onlyOptions(args: ParsedArgs, what: string, allowed: readonly string[]): void {
  for (const [k, v] of Object.entries(args.values)) {
    if (v !== undefined && !allowed.includes(k)) throw new SiosError('ERR_INPUT', `'sios ${what}' does not take --${k}. See --help`);
  }
}

export const command: CommandSpec = {
  help,
  options: {
    'max-line-bytes': { type: 'string' }, tenant: { type: 'string' }, status: { type: 'string' }, item: { type: 'string' },
    by: { type: 'string' }, reason: { type: 'string' }, ...dataOption, ...passOption,
    plugin: { type: 'string' }, publisher: { type: 'string', multiple: true }, dir: { type: 'string' },
    id: { type: 'string' }, version: { type: 'string' }, licence: { type: 'string' }, description: { type: 'string' },
    builder: { type: 'string' }, source: { type: 'string' }, built: { type: 'string' }, threshold: { type: 'string' },
    'injection-index': { type: 'string' }, 'max-tokens': { type: 'string' }, 'stride-tokens': { type: 'string' },
    model: { type: 'string' }, tokenizer: { type: 'string' }, 'tokenizer-config': { type: 'string' },
    'input-ids': { type: 'string' }, 'attention-mask': { type: 'string' }, 'token-type-ids': { type: 'string' }, output: { type: 'string' },
  },
  async run(args: ParsedArgs): Promise<number> {
    const sub = args.positionals[0];
    if (sub === 'quarantine') return quarantineCommand(args);
    if (sub === 'plugin') return pluginCommand(args);
    if (sub !== 'scan' || args.positionals.length !== 1) {
      throw new SiosError('ERR_INPUT', `unknown or missing subcommand '${sub ?? ''}'; use 'sios sentinel scan', 'sios sentinel plugin sign|verify' or 'sios sentinel quarantine list|show|release'. See --help`);
    }
    onlyOptions(args, 'sentinel scan', SCAN_OPTIONS);
    if (args.values['publisher'] !== undefined && str(args, 'plugin') === undefined) throw new SiosError('ERR_INPUT', '--publisher only applies with --plugin. See --help');
    let maxLineBytes = DEFAULT_MAX_LINE_BYTES;
    const m = str(args, 'max-line-bytes');
    if (m !== undefined) {
      if (!/^[0-9]{1,12}$/.test(m) || Number(m) < 1) throw new SiosError('ERR_INPUT', `--max-line-bytes must be a positive integer, got '${m}'`);
      maxLineBytes = Number(m);
    }
    const write = (s: string): void | Promise<void> => {
      // Respect back-pressure so a fast producer cannot make us buffer unbounded output.
      if (process.stdout.write(s)) return;
      return new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
    };
    const plugin = str(args, 'plugin');
    if (plugin === undefined) {
      await scanStream(process.stdin, write, { maxLineBytes, detector: defaultDetector() });
      return 0;
    }
    if (plugin === '') throw new SiosError('ERR_INPUT', '--plugin needs the detector pack directory. See --help');
    // Loaded only here: the default path never imports the ONNX runtime.
    const { loadCombinedDetector } = await import('../../sentinel/onnx/index.ts');
    const detector = await loadCombinedDetector(plugin, operatorTrust(args));
    try {
      await scanStream(process.stdin, write, { maxLineBytes, detector });
    } finally {
      await detector.close();
    }
    return 0;
  },
};

/**
 * Keys whose detector packs are accepted: the operator key of the data directory (its public half,
 * no passphrase needed) and any --publisher PEM files.
 */
function operatorTrust(args: ParsedArgs): TrustedPublishers {
  const dir = dataDir(args);
  const config = readConfig(dir);
  let pem: string;
  try { pem = fs.readFileSync(layout(dir).publicKey, 'utf8'); } catch (cause) {
    throw new SiosError('ERR_KEY', `cannot read the operator public key ${layout(dir).publicKey}; restore it with 'sios key show --pem'`, { cause });
  }
  const operator = parsePublicKey(pem);
  if (fingerprint(nodeVerifyCrypto, operator) !== config.operator.fingerprint) {
    throw new SiosError('ERR_KEY', `${layout(dir).publicKey} is not the operator key recorded in ${layout(dir).config}; restore it with 'sios key show --pem'`);
  }
  const extra = ((args.values['publisher'] as string[] | undefined) ?? []).map((f) => {
    try { return parsePublicKey(fs.readFileSync(f, 'utf8')); } catch (cause) {
      if (cause instanceof SiosError) throw new SiosError(cause.code, `--publisher ${f}: ${cause.message}`, { cause });
      throw new SiosError('ERR_INPUT', `cannot read --publisher ${f}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
    }
  });
  return new TrustedPublishers(operator, extra);
}

function numberOpt(args: ParsedArgs, name: string, re: RegExp, hint: string): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  if (!re.test(v)) throw new SiosError('ERR_INPUT', `--${name} must be ${hint}, got '${v.slice(0, 40)}'`);
  return Number(v);
}

const INT_RE = /^[0-9]{1,9}$/;

async function pluginCommand(args: ParsedArgs): Promise<number> {
  const action = args.positionals[1];
  if (args.positionals.length !== 2 || (action !== 'sign' && action !== 'verify')) {
    throw new SiosError('ERR_INPUT', `use 'sios sentinel plugin sign|verify --dir DIR'. See --help`);
  }
  onlyOptions(args, `sentinel plugin ${action}`, action === 'sign' ? SIGN_OPTIONS : VERIFY_OPTIONS);
  const dir = needOpt(args, 'dir');
  const onnx = await import('../../sentinel/onnx/index.ts');
  if (action === 'verify') {
    const det = await onnx.OnnxDetector.load(dir, operatorTrust(args));
    try {
      const m = det.manifest;
      const probe = await det.selfTest();
      out(`Detector pack ${det.ref} verifies: manifest ${det.digest.slice(0, 23)}…, signed by ${det.signer.slice(0, 23)}…, licence ${m.licence}`);
      out(table(['role', 'path', 'bytes', 'sha256'], Object.entries(m.files).map(([role, f]) => [role, f.path, f.bytes, f.sha256.slice(0, 16) + '…'])));
      out(`inputs ${Object.values(m.inputs).join(', ')}; output ${m.output.name}[${m.output.injectionIndex}]; windows of ${m.maxTokens} tokens, stride ${m.strideTokens}; threshold ${m.threshold} -> score ${OPERATING_THRESHOLD}`);
      out(`self-test: one full window of ${m.maxTokens} tokens ran in ${probe.runMs.toFixed(1)} ms (benign text, probability ${probe.p.toFixed(3)})`);
    } finally {
      await det.close();
    }
    return 0;
  }
  const threshold = numberOpt(args, 'threshold', /^0?\.[0-9]{1,6}$/, 'the calibrated injection probability, a decimal strictly between 0 and 1 such as 0.5');
  if (threshold === undefined) throw new SiosError('ERR_INPUT', '--threshold is required: the injection probability you calibrated as the operating point (for example 0.5). See --help');
  const injectionIndex = numberOpt(args, 'injection-index', INT_RE, 'the logit index of the injection class, such as 1');
  if (injectionIndex === undefined) throw new SiosError('ERR_INPUT', "--injection-index is required: the logit index of the injection (\"malicious\") class; for Llama Prompt Guard 2 it is 1 (LABEL_1). See --help");
  const maxTokens = numberOpt(args, 'max-tokens', INT_RE, 'a positive integer');
  const strideTokens = numberOpt(args, 'stride-tokens', INT_RE, 'a positive integer');
  const files = { model: str(args, 'model'), tokenizer: str(args, 'tokenizer'), tokenizerConfig: str(args, 'tokenizer-config') };
  const inputs = { ids: str(args, 'input-ids'), attentionMask: str(args, 'attention-mask'), tokenTypeIds: str(args, 'token-type-ids') };
  const defined = <T extends Record<string, string | undefined>>(o: T): Record<string, string> =>
    Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));
  const description = str(args, 'description');
  const outputName = str(args, 'output');
  const input: SignPackInput = {
    id: needOpt(args, 'id'), version: needOpt(args, 'version'), licence: needOpt(args, 'licence'),
    provenance: { builder: needOpt(args, 'builder'), source: needOpt(args, 'source'), built: str(args, 'built') ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
    threshold, injectionIndex,
    ...(description === undefined ? {} : { description }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(strideTokens === undefined ? {} : { strideTokens }),
    files: defined(files), inputs: defined(inputs),
    ...(outputName === undefined ? {} : { outputName }),
  };
  const d = await openDeployment(args);
  try {
    const r = await onnx.signDetectorPack(dir, input, d.signer);
    const m = r.manifest;
    out(`Signed detector pack ${onnx.detectorRef(m)} (${m.licence}), manifest ${r.digest.slice(0, 23)}…, signed by ${r.envelope.signer.slice(0, 23)}…`);
    out(`Wrote ${dir}/${onnx.PACK_MANIFEST_FILE}; pinned ${Object.values(m.files).map((f) => `${f.path} (${f.bytes} bytes)`).join(', ')}`);
    out(`inputs ${Object.values(m.inputs).join(', ')}; output ${m.output.name}[${m.output.injectionIndex}]; windows of ${m.maxTokens} tokens, stride ${m.strideTokens}; threshold ${m.threshold}; one full window ran in ${r.probeMs.toFixed(1)} ms`);
    out(`Use it with: sios sentinel scan --plugin ${dir}`);
  } finally {
    await d.close();
  }
  return 0;
}

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
  onlyOptions(args, `sentinel quarantine ${action}`, action === 'list' ? ['tenant', 'status', 'data', 'passphrase-file'] : action === 'show' ? ['tenant', 'item', 'data', 'passphrase-file'] : ['tenant', 'item', 'by', 'reason', 'data', 'passphrase-file']);
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
