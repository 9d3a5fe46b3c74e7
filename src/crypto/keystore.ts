/**
 * The operator's ML-DSA-65 signing key at rest.
 *
 * A key file is JSON. The 32-byte seed (FIPS 204 ξ) is sealed with AES-256-GCM under a random
 * 32-byte key-encryption key (KEK); the KEK is wrapped by one or more KeyProtectors (passphrase,
 * TPM, ...), any one of which opens the file. The public key and its fingerprint are in clear so
 * the key can be identified without unlocking it.
 *
 *   { "format": "sios-operator-key" | "sios-operator-key-export", "v": 1, "alg": "ML-DSA-65",
 *     "deployment": "...", "created": "2026-11-22T18:00:00.000Z",
 *     "fingerprint": "SHA256:<hex>", "publicKey": "<base64url, 1952 bytes>",
 *     "seed": { "cipher": "AES-256-GCM", "iv": "...", "ct": "...", "tag": "..." },
 *     "protectors": [ { "kind": "passphrase-scrypt", ... }, ... ],
 *     "check": { "header": "<hex16>", "publicKey": "...", "seed": "...", "protectors": ["..."] } }
 *
 * Binding: the GCM AAD of the seed and of every protector wrapping is the canonical JSON (RFC 8785)
 * of the header (format, v, alg, deployment, created, fingerprint) with a purpose label, so a seed,
 * KEK or wrapping moved from another file (or from an export file into a key file) fails to open.
 * `check` holds truncated SHA-256 digests per section: they are not security (anyone can recompute
 * them) but turn accidental damage or hand edits into an error that names the damaged section
 * instead of a misleading "wrong passphrase".
 */
import * as nodeCrypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SiosError } from '../errors.ts';
import { bytesEqual, fromBase64url, fromUtf8, toBase64url, toHex, utf8 } from '../encoding/bytes.ts';
import { canonicalize } from '../encoding/jcs.ts';
import { fingerprint } from './fingerprint.ts';
import { keyPairFromSeed, nodeVerifyCrypto, randomBytes, softwareSigner } from './node.ts';
import type { KeyProtector, WrappedKey } from './protector.ts';
import { ML_DSA_65, type Signer } from './suite.ts';

export const KEY_FILE_FORMAT = 'sios-operator-key';
export const EXPORT_FILE_FORMAT = 'sios-operator-key-export';
export const KEY_FILE_VERSION = 1;
export type KeyFileFormat = typeof KEY_FILE_FORMAT | typeof EXPORT_FILE_FORMAT;

export interface SealedSeed {
  readonly cipher: 'AES-256-GCM';
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

export interface KeyFileCheck {
  readonly header: string;
  readonly publicKey: string;
  readonly seed: string;
  readonly protectors: readonly string[];
}

export interface KeyFile {
  readonly format: KeyFileFormat;
  readonly v: 1;
  readonly alg: 'ML-DSA-65';
  readonly deployment: string;
  readonly created: string;
  readonly fingerprint: string;
  readonly publicKey: string;
  readonly seed: SealedSeed;
  readonly protectors: readonly WrappedKey[];
  readonly check: KeyFileCheck;
}

export interface KeyFileMeta {
  /** Deployment id, bound into every ciphertext: [A-Za-z0-9][A-Za-z0-9._-]{0,127}. */
  deployment: string;
  /** ISO 8601 UTC creation time; default now. */
  created?: string;
  /** 'sios-operator-key' (default) or 'sios-operator-key-export' for an offline backup. */
  format?: KeyFileFormat;
}

const TOP_KEYS = ['format', 'v', 'alg', 'deployment', 'created', 'fingerprint', 'publicKey', 'seed', 'protectors', 'check'] as const;
const SEED_KEYS = ['cipher', 'iv', 'ct', 'tag'] as const;
const CHECK_KEYS = ['header', 'publicKey', 'seed', 'protectors'] as const;
const META_KEYS = ['deployment', 'created', 'format'];
const DEPLOYMENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CREATED_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const FINGERPRINT_RE = /^SHA256:[0-9a-f]{64}$/;
const MAX_PROTECTORS = 16;
/** A key file is a few KiB; anything near this is not one. */
export const MAX_KEY_FILE_BYTES = 256 * 1024;
const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

// ---------------------------------------------------------------------------------------------
// create / open / rewrap

/** Seal `seed` into a new key file that any one of `protectors` opens. The seed is not wiped here (it is the caller's). */
export async function createKeyFile(seed: Uint8Array, protectors: readonly KeyProtector[], meta: KeyFileMeta): Promise<KeyFile> {
  if (!(seed instanceof Uint8Array) || seed.length !== ML_DSA_65.seedBytes) {
    throw new SiosError('ERR_KEY', `an ML-DSA-65 seed is ${ML_DSA_65.seedBytes} bytes, got ${seed instanceof Uint8Array ? seed.length : typeof seed}`);
  }
  checkProtectorList(protectors);
  for (const k of Object.keys(meta)) {
    if (!META_KEYS.includes(k)) throw new SiosError('ERR_INPUT', `unknown key file option "${k}"; allowed: ${META_KEYS.join(', ')}`);
  }
  const format = meta.format ?? KEY_FILE_FORMAT;
  if (format !== KEY_FILE_FORMAT && format !== EXPORT_FILE_FORMAT) throw new SiosError('ERR_INPUT', `key file format must be "${KEY_FILE_FORMAT}" or "${EXPORT_FILE_FORMAT}"`);
  if (typeof meta.deployment !== 'string' || !DEPLOYMENT_RE.test(meta.deployment)) {
    throw new SiosError('ERR_INPUT', 'deployment id must be 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  const created = meta.created ?? new Date().toISOString();
  if (!CREATED_RE.test(created) || Number.isNaN(Date.parse(created))) throw new SiosError('ERR_INPUT', 'created must be an ISO 8601 UTC time such as 2026-11-22T18:00:00.000Z');

  const { publicKey } = keyPairFromSeed(seed);
  const header: Header = { format, v: KEY_FILE_VERSION, alg: 'ML-DSA-65', deployment: meta.deployment, created, fingerprint: fingerprint(nodeVerifyCrypto, publicKey) };
  const kek = randomBytes(KEK_BYTES);
  try {
    const sealed = gcmSeal(kek, seed, aadFor(header, 'seed'));
    const wrapped = await wrapAll(kek, protectors, header);
    return assemble(header, toBase64url(publicKey), sealed, wrapped);
  } finally {
    kek.fill(0);
  }
}

/**
 * Open a key file with one protector and return the 32-byte seed. The caller owns the seed and
 * should `fill(0)` it when done (or use openSigner). Every wrapping of the protector's kind is
 * tried; the file must also be internally consistent (the seed must give the recorded public key).
 */
export async function openKeyFile(file: KeyFile, protector: KeyProtector, opts: { format?: KeyFileFormat } = {}): Promise<Uint8Array> {
  const f = validateKeyFile(file);
  if (opts.format !== undefined && f.format !== opts.format) {
    throw new SiosError('ERR_KEY', `expected a "${opts.format}" file but this is a "${f.format}" file; pass the right file`);
  }
  const kek = await unlockKek(f, protector);
  try {
    return openSeed(f, kek, protector.kind);
  } finally {
    kek.fill(0);
  }
}

/** Open the key file and return a signer; the seed copy is wiped (the signer keeps an OpenSSL key object). */
export async function openSigner(file: KeyFile, protector: KeyProtector): Promise<Signer> {
  const seed = await openKeyFile(file, protector, { format: KEY_FILE_FORMAT });
  try {
    return softwareSigner(seed);
  } finally {
    seed.fill(0);
  }
}

/**
 * Replace the protectors of a key file (change a passphrase, raise scrypt cost, add or drop a TPM
 * seal). `unlock` must open the file as it is. The sealed seed and KEK stay the same.
 */
export async function rewrapKeyFile(file: KeyFile, unlock: KeyProtector, protectors: readonly KeyProtector[]): Promise<KeyFile> {
  const f = validateKeyFile(file);
  checkProtectorList(protectors);
  const kek = await unlockKek(f, unlock);
  try {
    openSeed(f, kek, unlock.kind).fill(0); // prove the KEK opens this seed before re-wrapping it
    const wrapped = await wrapAll(kek, protectors, headerOf(f));
    return assemble(headerOf(f), f.publicKey, f.seed, wrapped);
  } finally {
    kek.fill(0);
  }
}

/** Add protectors, keeping the existing wrappings. */
export async function addProtectors(file: KeyFile, unlock: KeyProtector, protectors: readonly KeyProtector[]): Promise<KeyFile> {
  const f = validateKeyFile(file);
  checkProtectorList(protectors, f.protectors.length);
  const kek = await unlockKek(f, unlock);
  try {
    openSeed(f, kek, unlock.kind).fill(0);
    const wrapped = await wrapAll(kek, protectors, headerOf(f));
    return assemble(headerOf(f), f.publicKey, f.seed, [...f.protectors, ...wrapped]);
  } finally {
    kek.fill(0);
  }
}

/** Non-secret facts about a key file, for display. */
export function keyFileInfo(file: KeyFile): { format: KeyFileFormat; deployment: string; created: string; fingerprint: string; publicKey: Uint8Array; protectors: string[] } {
  const f = validateKeyFile(file);
  return { format: f.format, deployment: f.deployment, created: f.created, fingerprint: f.fingerprint, publicKey: fromBase64url(f.publicKey), protectors: f.protectors.map((w) => w.kind) };
}

// ---------------------------------------------------------------------------------------------
// text and disk

export function serializeKeyFile(file: KeyFile): string {
  return JSON.stringify(validateKeyFile(file), null, 2) + '\n';
}

/** Parse and strictly validate key file text (or bytes). Every defect is an ERR_KEY that names it. */
export function parseKeyFile(text: string | Uint8Array): KeyFile {
  const size = typeof text === 'string' ? text.length : text.length;
  if (size > MAX_KEY_FILE_BYTES) throw new SiosError('ERR_TOO_LARGE', `a key file is a few KiB; this input has ${size} bytes, so it is not a SIOS key file`);
  let s: string;
  try {
    s = typeof text === 'string' ? text : fromUtf8(text, 'key file');
  } catch (cause) {
    throw new SiosError('ERR_KEY', 'the key file is not valid UTF-8 text; it is damaged or not a SIOS key file: use an intact copy or a backup', { cause });
  }
  let o: unknown;
  try {
    o = JSON.parse(s);
  } catch (cause) {
    throw new SiosError('ERR_KEY', 'the key file is not valid JSON; it was truncated or edited: use an intact copy or a backup', { cause });
  }
  return validateKeyFile(o);
}

/**
 * Write a key file atomically with mode 0600: temporary file, fsync, then link (no overwrite,
 * ERR_CONFLICT if `file` exists) or rename (overwrite), then fsync the directory.
 */
export function writeKeyFile(filePath: string, file: KeyFile, opts: { overwrite?: boolean } = {}): void {
  const text = serializeKeyFile(file);
  const dir = path.dirname(path.resolve(filePath));
  const tmp = path.join(dir, `.${path.basename(filePath)}.tmp-${toHex(randomBytes(6))}`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
    fs.fchmodSync(fd, 0o600); // the umask can only narrow the mode; make it exact
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    if (opts.overwrite) {
      fs.renameSync(tmp, filePath);
    } else {
      try {
        fs.linkSync(tmp, filePath); // atomic and never replaces an existing key
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new SiosError('ERR_CONFLICT', `${filePath} already exists; refusing to overwrite a key file (move it away first, or pass overwrite after making a backup)`);
        }
        throw e;
      }
      fs.unlinkSync(tmp);
    }
    const dfd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if (e instanceof SiosError) throw e;
    throw new SiosError('ERR_STORE', `could not write key file ${filePath}: ${(e as Error).message}; check the directory exists, is writable and the disk has space`, { cause: e });
  }
}

/**
 * Read and validate a key file. Unless `allowOpenMode` (for an export on removable media), a file
 * readable or writable by group or others is refused, as ssh does for private keys.
 */
export function readKeyFile(filePath: string, opts: { allowOpenMode?: boolean } = {}): KeyFile {
  let st: fs.Stats;
  try {
    st = fs.statSync(filePath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SiosError('ERR_NOT_FOUND', `key file ${filePath} does not exist; create one or restore it from a backup`, { cause: e });
    throw new SiosError('ERR_STORE', `cannot read key file ${filePath}: ${(e as Error).message}`, { cause: e });
  }
  if (!st.isFile()) throw new SiosError('ERR_KEY', `${filePath} is not a regular file`);
  if (st.size > MAX_KEY_FILE_BYTES) throw new SiosError('ERR_TOO_LARGE', `${filePath} has ${st.size} bytes; a key file is a few KiB, so this is not one`);
  if (!opts.allowOpenMode && (st.mode & 0o077) !== 0) {
    throw new SiosError('ERR_KEY', `key file ${filePath} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${filePath}`);
  }
  try {
    return parseKeyFile(new Uint8Array(fs.readFileSync(filePath)));
  } catch (e) {
    if (e instanceof SiosError) throw new SiosError(e.code, `key file ${filePath}: ${e.message}`, { cause: e.cause, details: { ...e.details } });
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// internals

interface Header {
  format: KeyFileFormat;
  v: 1;
  alg: 'ML-DSA-65';
  deployment: string;
  created: string;
  fingerprint: string;
}

function headerOf(f: KeyFile): Header {
  return { format: f.format, v: f.v, alg: f.alg, deployment: f.deployment, created: f.created, fingerprint: f.fingerprint };
}

/** Domain-separated AAD: which ciphertext (seed or KEK) of which file. */
function aadFor(h: Header, purpose: 'seed' | 'kek'): Uint8Array {
  return utf8(`sios key file v1 ${purpose}\n${canonicalize(h)}`);
}

function digest16(label: string, value: unknown): string {
  return nodeCrypto.createHash('sha256').update(`sios key file check ${label}\n`).update(canonicalize(value)).digest('hex').slice(0, 16);
}

function checkFor(h: Header, publicKey: string, seed: SealedSeed, protectors: readonly WrappedKey[]): KeyFileCheck {
  return {
    header: digest16('header', h),
    publicKey: digest16('publicKey', publicKey),
    seed: digest16('seed', seed),
    protectors: protectors.map((w, i) => digest16(`protector ${i}`, w)),
  };
}

function assemble(h: Header, publicKey: string, seed: SealedSeed, protectors: readonly WrappedKey[]): KeyFile {
  const f: KeyFile = { ...h, publicKey, seed, protectors: [...protectors], check: checkFor(h, publicKey, seed, protectors) };
  return validateKeyFile(f);
}

function checkProtectorList(protectors: readonly KeyProtector[], existing = 0): void {
  if (!Array.isArray(protectors) || protectors.length === 0) throw new SiosError('ERR_INPUT', 'give at least one key protector (for example a passphrase), or the key could never be opened');
  if (protectors.length + existing > MAX_PROTECTORS) throw new SiosError('ERR_INPUT', `a key file holds at most ${MAX_PROTECTORS} protectors`);
  for (const p of protectors) {
    if (!p || typeof p.kind !== 'string' || typeof p.wrap !== 'function' || typeof p.unwrap !== 'function') {
      throw new SiosError('ERR_INPUT', 'each protector must implement KeyProtector (kind, wrap, unwrap)');
    }
  }
}

async function wrapAll(kek: Uint8Array, protectors: readonly KeyProtector[], h: Header): Promise<WrappedKey[]> {
  const aad = aadFor(h, 'kek');
  const out: WrappedKey[] = [];
  for (const p of protectors) {
    const w = await p.wrap(kek, aad);
    if (w === null || typeof w !== 'object' || w.kind !== p.kind) {
      throw new SiosError('ERR_INTERNAL', `protector "${p.kind}" returned a wrapping whose kind is not "${p.kind}"; this is a bug in that protector`);
    }
    // A wrapping must survive the JSON file unchanged: a Uint8Array or Date would be silently mangled.
    assertPlainJson(w, `protector "${p.kind}" wrapping`);
    out.push(JSON.parse(JSON.stringify(w)) as WrappedKey);
  }
  return out;
}

function assertPlainJson(v: unknown, where: string, depth = 0): void {
  const bad = (what: string): never => {
    throw new SiosError('ERR_INTERNAL', `${where} holds ${what}, which a key file cannot store; encode bytes as base64url strings (this is a bug in that protector)`);
  };
  if (depth > 8) bad('values nested deeper than 8 levels');
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') { if (!Number.isFinite(v)) bad('a non-finite number'); return; }
  if (Array.isArray(v)) { v.forEach((x, i) => assertPlainJson(x, `${where}[${i}]`, depth + 1)); return; }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) assertPlainJson(x, `${where}.${k}`, depth + 1);
    return;
  }
  bad(v instanceof Uint8Array ? 'a Uint8Array' : `a value of type ${typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : typeof v}`);
}

async function unlockKek(f: KeyFile, protector: KeyProtector): Promise<Uint8Array> {
  if (!protector || typeof protector.unwrap !== 'function') throw new SiosError('ERR_INPUT', 'openKeyFile needs a KeyProtector');
  const candidates = f.protectors.filter((w) => w.kind === protector.kind);
  if (candidates.length === 0) {
    throw new SiosError('ERR_KEY', `this key file has no "${protector.kind}" protector (it has: ${f.protectors.map((w) => w.kind).join(', ')}); unlock it with one of those`);
  }
  const aad = aadFor(headerOf(f), 'kek');
  let first: unknown;
  for (const w of candidates) {
    try {
      const kek = await protector.unwrap(w, aad);
      if (!(kek instanceof Uint8Array) || kek.length !== KEK_BYTES) {
        throw new SiosError('ERR_KEY', `protector "${protector.kind}" unwrapped a ${kek instanceof Uint8Array ? kek.length : typeof kek}-byte key, expected ${KEK_BYTES}: the wrapping is corrupt`);
      }
      return kek;
    } catch (e) {
      // Several wrappings of one kind (two operators' passphrases): try them all, report the first failure.
      if (!(e instanceof SiosError)) throw e;
      first ??= e;
    }
  }
  throw first;
}

function openSeed(f: KeyFile, kek: Uint8Array, kind: string): Uint8Array {
  const h = headerOf(f);
  const iv = fromBase64url(f.seed.iv), ct = fromBase64url(f.seed.ct), tag = fromBase64url(f.seed.tag);
  let seed: Uint8Array;
  try {
    seed = gcmOpen(kek, iv, ct, tag, aadFor(h, 'seed'));
  } catch (cause) {
    throw new SiosError('ERR_KEY', `the "${kind}" protector opened, but the sealed seed does not decrypt with its key: the file was assembled from parts of different key files or altered; use an intact copy or a backup`, { cause });
  }
  const { publicKey } = keyPairFromSeed(seed);
  if (!bytesEqual(publicKey, fromBase64url(f.publicKey))) {
    seed.fill(0);
    throw new SiosError('ERR_KEY', 'the decrypted seed does not give the public key recorded in the file: the file is inconsistent; use an intact copy or a backup');
  }
  return seed;
}

function gcmSeal(key: Uint8Array, plain: Uint8Array, aad: Uint8Array): SealedSeed {
  const iv = randomBytes(IV_BYTES);
  const c = nodeCrypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return { cipher: 'AES-256-GCM', iv: toBase64url(iv), ct: toBase64url(new Uint8Array(ct)), tag: toBase64url(new Uint8Array(c.getAuthTag())) };
}

function gcmOpen(key: Uint8Array, iv: Uint8Array, ct: Uint8Array, tag: Uint8Array, aad: Uint8Array): Uint8Array {
  const d = nodeCrypto.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(tag);
  const out = d.update(ct);
  try {
    d.final();
  } catch (e) {
    out.fill(0);
    throw e;
  }
  const r = new Uint8Array(out);
  out.fill(0);
  return r;
}

/** Structural validation of an untrusted key file object; returns it typed. */
function validateKeyFile(o: unknown): KeyFile {
  const bad = (msg: string, field: string): never => {
    throw new SiosError('ERR_KEY', `the key file is malformed: ${msg}; it was edited or damaged: use an intact copy or a backup`, { details: { field } });
  };
  const obj = (v: unknown, what: string): Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : bad(`${what} is not an object`, what);
  const exactKeys = (r: Record<string, unknown>, keys: readonly string[], what: string): void => {
    for (const k of Object.keys(r)) if (!keys.includes(k)) bad(`${what} has an unknown field "${k}"`, `${what}.${k}`);
    for (const k of keys) if (!(k in r)) bad(`${what} lacks the field "${k}"`, `${what}.${k}`);
  };
  const b64 = (v: unknown, len: number, what: string): string => {
    if (typeof v !== 'string') return bad(`${what} is not a string`, what);
    let b: Uint8Array;
    try { b = fromBase64url(v, what); } catch { return bad(`${what} is not base64url`, what); }
    if (b.length !== len) bad(`${what} is ${b.length} bytes, expected ${len}`, what);
    return v;
  };

  const r = obj(o, 'key file');
  // Version and format first, so a newer file says "upgrade" rather than "unknown field".
  if (r['format'] !== KEY_FILE_FORMAT && r['format'] !== EXPORT_FILE_FORMAT) {
    bad(`format is ${JSON.stringify(r['format'])}, not "${KEY_FILE_FORMAT}" or "${EXPORT_FILE_FORMAT}" (is this a SIOS key file?)`, 'format');
  }
  if (r['v'] !== KEY_FILE_VERSION) {
    throw new SiosError('ERR_UNSUPPORTED', `key file version ${JSON.stringify(r['v'])} is not supported (this SIOS reads version ${KEY_FILE_VERSION}); upgrade SIOS to open it`, { details: { field: 'v' } });
  }
  if (r['alg'] !== 'ML-DSA-65') {
    throw new SiosError('ERR_UNSUPPORTED', `key algorithm ${JSON.stringify(r['alg'])} is not supported (only ML-DSA-65)`, { details: { field: 'alg' } });
  }
  exactKeys(r, TOP_KEYS, 'key file');
  if (typeof r['deployment'] !== 'string' || !DEPLOYMENT_RE.test(r['deployment'])) bad('deployment is not a valid deployment id', 'deployment');
  if (typeof r['created'] !== 'string' || !CREATED_RE.test(r['created'])) bad('created is not an ISO 8601 UTC time', 'created');
  if (typeof r['fingerprint'] !== 'string' || !FINGERPRINT_RE.test(r['fingerprint'])) bad('fingerprint is not "SHA256:" and 64 lower-case hex digits', 'fingerprint');
  b64(r['publicKey'], ML_DSA_65.publicKeyBytes, 'publicKey');
  const seed = obj(r['seed'], 'seed');
  exactKeys(seed, SEED_KEYS, 'seed');
  if (seed['cipher'] !== 'AES-256-GCM') bad(`seed.cipher ${JSON.stringify(seed['cipher'])} is not supported (only "AES-256-GCM")`, 'seed.cipher');
  b64(seed['iv'], IV_BYTES, 'seed.iv');
  b64(seed['ct'], ML_DSA_65.seedBytes, 'seed.ct');
  b64(seed['tag'], TAG_BYTES, 'seed.tag');
  const prots = r['protectors'];
  if (!Array.isArray(prots) || prots.length === 0 || prots.length > MAX_PROTECTORS) bad(`protectors must be a list of 1 to ${MAX_PROTECTORS} wrappings`, 'protectors');
  (prots as unknown[]).forEach((w, i) => {
    const wr = obj(w, `protectors[${i}]`);
    if (typeof wr['kind'] !== 'string' || wr['kind'].length === 0) bad(`protectors[${i}].kind is not a non-empty string`, `protectors[${i}].kind`);
  });
  const check = obj(r['check'], 'check');
  exactKeys(check, CHECK_KEYS, 'check');
  if (!Array.isArray(check['protectors'])) bad('check.protectors is not a list', 'check.protectors');

  const f = r as unknown as KeyFile;
  const h = headerOf(f);
  const want = checkFor(h, f.publicKey, f.seed, f.protectors);
  const damaged = (section: string, what: string): never => {
    throw new SiosError('ERR_KEY', `the key file's ${what} does not match its checksum: it was edited or damaged; use an intact copy or a backup`, { details: { field: section } });
  };
  if (check['header'] !== want.header) damaged('header', 'header (format, deployment, created, fingerprint)');
  if (check['publicKey'] !== want.publicKey) damaged('publicKey', 'public key');
  if (check['seed'] !== want.seed) damaged('seed', 'sealed seed');
  const cp = check['protectors'] as unknown[];
  if (cp.length !== want.protectors.length) damaged('protectors', 'list of protectors');
  want.protectors.forEach((d, i) => { if (cp[i] !== d) damaged(`protectors[${i}]`, `protector #${i + 1} ("${String(f.protectors[i]?.kind)}")`); });
  // Checksums agree: now the fingerprint must be the hash of the public key (a deliberate edit that
  // also recomputed the checksums lands here or in the AEAD checks).
  if (fingerprint(nodeVerifyCrypto, fromBase64url(f.publicKey)) !== f.fingerprint) bad('the fingerprint is not the SHA-256 of the public key', 'fingerprint');
  return f;
}
