/**
 * Checkpoints as C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint).
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n[extension lines\n]\n— <key name> <base64(key id || signature)>\n...
 *
 * ML-DSA-65 has no registered signed-note signature type, so SIOS uses the reserved type byte 0xff
 * ("identifier hashing") as the spec allows: key id = SHA-256(name || 0x0A || 0xFF || "ML-DSA-65" ||
 * public key)[0:4]. The signature is ML-DSA-65 (FIPS 204, empty context) over the note body bytes.
 * docs/formats.md documents this for independent verifiers.
 */
import { SiosError, VerifyError } from '../errors.ts';
import { concat, fromBase64, fromUtf8, toBase64, utf8 } from '../encoding/bytes.ts';
import type { Signer, VerifyCrypto } from '../crypto/suite.ts';

const MAX_NOTE = 64 * 1024;
const MAX_SIGS = 16;
const DASH = '\u2014';

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  /** Extension lines (SIOS uses `sios-time <iso>` and `sios-attest <mode> [digest]`). */
  extensions: string[];
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  signature: Uint8Array;
}

export interface SignedCheckpoint {
  checkpoint: Checkpoint;
  body: string;
  signatures: NoteSignature[];
  text: string;
}

export function keyId(c: VerifyCrypto, name: string, publicKey: Uint8Array): Uint8Array {
  return c.sha256(concat(utf8(name), Uint8Array.of(0x0a, 0xff), utf8('ML-DSA-65'), publicKey)).subarray(0, 4);
}

function checkOrigin(origin: string): void {
  if (!/^[\x21-\x7e]{1,255}$/.test(origin) || origin.includes('+')) {
    throw new SiosError('ERR_INPUT', `checkpoint origin '${origin.slice(0, 40)}' must be 1-255 printable ASCII characters without spaces or '+'`);
  }
}

export function checkpointBody(cp: Checkpoint): string {
  checkOrigin(cp.origin);
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new SiosError('ERR_INPUT', 'checkpoint size must be a non-negative integer');
  if (cp.root.length !== 32) throw new SiosError('ERR_INPUT', 'checkpoint root must be 32 bytes');
  for (const e of cp.extensions) if (e === '' || /[\n\r]/.test(e) || !/^[\x20-\x7e]+$/.test(e)) throw new SiosError('ERR_INPUT', 'checkpoint extension lines must be non-empty printable ASCII');
  return `${cp.origin}\n${cp.size}\n${toBase64(cp.root)}\n${cp.extensions.map((e) => e + '\n').join('')}`;
}

export async function signCheckpoint(c: VerifyCrypto, cp: Checkpoint, signer: Signer, name = cp.origin): Promise<SignedCheckpoint> {
  const body = checkpointBody(cp);
  const signature = await signer.sign(utf8(body));
  const sig: NoteSignature = { name, keyId: keyId(c, name, signer.publicKey), signature };
  const text = body + '\n' + `${DASH} ${name} ${toBase64(concat(sig.keyId, signature))}\n`;
  return { checkpoint: cp, body, signatures: [sig], text };
}

/** Parse a signed checkpoint strictly. Throws VerifyError('malformed') naming the problem. */
export function parseSignedCheckpoint(text: string): SignedCheckpoint {
  const bad = (why: string): never => { throw new VerifyError('malformed', `checkpoint note is malformed: ${why}`); };
  if (text.length > MAX_NOTE) bad(`longer than ${MAX_NOTE} characters`);
  const split = text.indexOf('\n\n');
  if (split < 0) bad('no blank line between the body and the signatures');
  const body = text.slice(0, split + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) bad('the body needs origin, size and root lines');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!/^[\x21-\x7e]{1,255}$/.test(origin)) bad('bad origin line');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) bad('the size line is not a decimal integer');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) bad('size out of range');
  let root: Uint8Array;
  try { root = fromBase64(rootText, 'root hash'); } catch { return bad('the root line is not base64'); }
  if (root.length !== 32) bad('the root hash is not 32 bytes');
  for (const e of extensions) if (e === '' || !/^[\x20-\x7e]+$/.test(e)) bad('an extension line is empty or not printable ASCII');
  const sigText = text.slice(split + 2);
  if (!sigText.endsWith('\n')) bad('the signature block does not end with a newline');
  const sigLines = sigText.slice(0, -1).split('\n');
  if (sigLines.length > MAX_SIGS) bad(`more than ${MAX_SIGS} signatures`);
  const signatures: NoteSignature[] = [];
  for (const l of sigLines) {
    const m = /^\u2014 ([\x21-\x7e]+) ([A-Za-z0-9+/=]+)$/.exec(l);
    if (!m) bad('a signature line is not "— <name> <base64>"');
    let raw: Uint8Array;
    try { raw = fromBase64(m![2] as string, 'signature'); } catch { return bad('a signature is not base64'); }
    if (raw.length < 5) bad('a signature is too short');
    signatures.push({ name: m![1] as string, keyId: raw.subarray(0, 4), signature: raw.subarray(4) });
  }
  return { checkpoint: { origin, size, root: root!, extensions }, body, signatures, text };
}

/**
 * Verify that at least one signature on the note is by one of `keys` (raw ML-DSA-65 public keys)
 * under the note's origin name. Returns the index of the key that signed. Throws VerifyError.
 */
export async function verifyCheckpointSignature(c: VerifyCrypto, sc: SignedCheckpoint, keys: readonly Uint8Array[], seq?: number): Promise<number> {
  const msg = utf8(sc.body);
  let sawKnownId = false;
  for (const sig of sc.signatures) {
    if (sig.name !== sc.checkpoint.origin) continue;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as Uint8Array;
      const id = keyId(c, sig.name, k);
      if (id[0] !== sig.keyId[0] || id[1] !== sig.keyId[1] || id[2] !== sig.keyId[2] || id[3] !== sig.keyId[3]) continue;
      sawKnownId = true;
      if (await c.verifyMlDsa65(k, msg, sig.signature)) return i;
    }
  }
  if (!sawKnownId) throw new VerifyError('unknown-key', `checkpoint at size ${sc.checkpoint.size} is not signed by any trusted key (check you have the right operator public key)`, seq);
  throw new VerifyError('bad-signature', `checkpoint at size ${sc.checkpoint.size} has an invalid ML-DSA-65 signature`, seq);
}

export function decodeNoteText(bytes: Uint8Array): string {
  return fromUtf8(bytes, 'checkpoint note');
}
