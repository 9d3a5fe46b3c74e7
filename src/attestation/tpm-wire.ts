/**
 * TPM 2.0 wire structures that a verifier must read: TPMS_ATTEST (quote), TPMT_PUBLIC (AK, EK),
 * TPMT_SIGNATURE (ECDSA), object names, qualified names, and policy digests.
 * Runtime-agnostic (Uint8Array, crypto.subtle only): the browser verifier bundles this unchanged.
 * References: TPM 2.0 Library Part 2 (Structures) rev 1.59; Part 1 §16 (Names), Part 3 §23 (policy).
 */
import { VerifyError } from '../errors.ts';
import { concat } from '../encoding/bytes.ts';

export const TPM_GENERATED_VALUE = 0xff544347; // Part 2 §6.2
export const TPM_ST_ATTEST_QUOTE = 0x8018;     // Part 2 §6.9
export const TPM_ALG_SHA256 = 0x000b;
export const TPM_ALG_ECC = 0x0023;
export const TPM_ALG_ECDSA = 0x0018;
export const TPM_ALG_NULL = 0x0010;
export const TPM_ECC_NIST_P256 = 0x0003;
export const TPM_RH_ENDORSEMENT = 0x4000000b;  // Part 2 §7.4
export const TPM_CC_PolicyPCR = 0x0000017f;
export const TPM_CC_PolicySecret = 0x00000151;

// TPMA_OBJECT bits, Part 2 §8.3
export const OBJ_FIXED_TPM = 1 << 1;
export const OBJ_FIXED_PARENT = 1 << 4;
export const OBJ_SENSITIVE_DATA_ORIGIN = 1 << 5;
export const OBJ_RESTRICTED = 1 << 16;
export const OBJ_DECRYPT = 1 << 17;
export const OBJ_SIGN = 1 << 18;

/** Bounded big-endian reader; every overrun is a typed 'bad-evidence' error, never a RangeError. */
export class Reader {
  private o = 0;
  private readonly b: Uint8Array;
  private readonly what: string;
  constructor(b: Uint8Array, what: string) { this.b = b; this.what = what; }
  private need(n: number): void {
    if (this.o + n > this.b.length) throw new VerifyError('bad-evidence', `${this.what} is truncated at byte ${this.o} (needs ${n} more); the evidence was cut or altered`);
  }
  u8(): number { this.need(1); return this.b[this.o++] as number; }
  u16(): number { this.need(2); const v = ((this.b[this.o] as number) << 8) | (this.b[this.o + 1] as number); this.o += 2; return v; }
  u32(): number { return ((this.u16() << 16) >>> 0) + this.u16(); }
  u64(): bigint { const hi = BigInt(this.u32()); return (hi << 32n) | BigInt(this.u32()); }
  bytes(n: number): Uint8Array { this.need(n); const v = this.b.slice(this.o, this.o + n); this.o += n; return v; }
  tpm2b(): Uint8Array { return this.bytes(this.u16()); }
  get offset(): number { return this.o; }
  end(): void {
    if (this.o !== this.b.length) throw new VerifyError('bad-evidence', `${this.what} has ${this.b.length - this.o} trailing bytes; the evidence was altered`);
  }
}

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
}

const u16be = (v: number): Uint8Array => Uint8Array.of(v >> 8, v & 0xff);
const u32be = (v: number): Uint8Array => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);

/** TPML_PCR_SELECTION with one sha256 bank (Part 2 §10.6.2), PCR bitmap of 3 bytes (24 PCRs). */
export function marshalPcrSelection(pcrs: readonly number[]): Uint8Array {
  const bitmap = new Uint8Array(3);
  for (const p of pcrs) {
    if (!Number.isInteger(p) || p < 0 || p > 23) throw new VerifyError('bad-evidence', `PCR index ${p} is outside 0..23`);
    bitmap[p >> 3] = (bitmap[p >> 3] as number) | (1 << (p & 7));
  }
  return concat(u32be(1), u16be(TPM_ALG_SHA256), Uint8Array.of(3), bitmap);
}

export interface PcrSelection { readonly hash: number; readonly pcrs: number[] }

function readPcrSelection(r: Reader): PcrSelection[] {
  const count = r.u32();
  if (count > 16) throw new VerifyError('bad-evidence', `PCR selection claims ${count} banks; at most 16 exist`);
  const out: PcrSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hash = r.u16();
    const size = r.u8();
    if (size > 8) throw new VerifyError('bad-evidence', `PCR selection bitmap of ${size} bytes is too large`);
    const map = r.bytes(size);
    const pcrs: number[] = [];
    for (let p = 0; p < size * 8; p++) if (((map[p >> 3] as number) >> (p & 7)) & 1) pcrs.push(p);
    out.push({ hash, pcrs });
  }
  return out;
}

export interface Attest {
  readonly magic: number;
  readonly type: number;
  readonly qualifiedSigner: Uint8Array;
  readonly extraData: Uint8Array;
  readonly clock: bigint;
  readonly resetCount: number;
  readonly restartCount: number;
  readonly safe: boolean;
  readonly firmwareVersion: bigint;
  readonly pcrSelection: PcrSelection[];
  readonly pcrDigest: Uint8Array;
}

/** Parse TPMS_ATTEST of a quote (Part 2 §10.12.12). Refuses anything but a TPM-generated quote. */
export function parseQuoteAttest(b: Uint8Array): Attest {
  const r = new Reader(b, 'TPMS_ATTEST');
  const magic = r.u32();
  if (magic !== TPM_GENERATED_VALUE) throw new VerifyError('bad-evidence', `TPMS_ATTEST magic is 0x${magic.toString(16)}, not TPM_GENERATED_VALUE 0xff544347: not produced by a TPM`);
  const type = r.u16();
  if (type !== TPM_ST_ATTEST_QUOTE) throw new VerifyError('bad-evidence', `TPMS_ATTEST type is 0x${type.toString(16)}, not TPM_ST_ATTEST_QUOTE 0x8018`);
  const qualifiedSigner = r.tpm2b();
  const extraData = r.tpm2b();
  const clock = r.u64();
  const resetCount = r.u32();
  const restartCount = r.u32();
  const safeByte = r.u8();
  if (safeByte > 1) throw new VerifyError('bad-evidence', 'TPMS_CLOCK_INFO.safe is not a boolean');
  const firmwareVersion = r.u64();
  const pcrSelection = readPcrSelection(r);
  const pcrDigest = r.tpm2b();
  r.end();
  return { magic, type, qualifiedSigner, extraData, clock, resetCount, restartCount, safe: safeByte === 1, firmwareVersion, pcrSelection, pcrDigest };
}

export interface EccPublic {
  readonly type: number;
  readonly nameAlg: number;
  readonly attributes: number;
  readonly authPolicy: Uint8Array;
  readonly scheme: number;
  readonly schemeHash: number;
  readonly curve: number;
  readonly x: Uint8Array;
  readonly y: Uint8Array;
  /** The marshalled TPMT_PUBLIC (what the name hashes). */
  readonly area: Uint8Array;
}

/** Parse a TPM2B_PUBLIC holding an ECC key (Part 2 §12.2.5). Other key types are refused. */
export function parseEccPublic(tpm2bPublic: Uint8Array, what: string): EccPublic {
  const outer = new Reader(tpm2bPublic, what);
  const area = outer.tpm2b();
  outer.end();
  const r = new Reader(area, what);
  const type = r.u16();
  if (type !== TPM_ALG_ECC) throw new VerifyError('bad-evidence', `${what} is not an ECC key (type 0x${type.toString(16)})`);
  const nameAlg = r.u16();
  const attributes = r.u32();
  const authPolicy = r.tpm2b();
  const symAlg = r.u16();
  if (symAlg !== TPM_ALG_NULL) { r.u16(); r.u16(); } // keyBits, mode
  const scheme = r.u16();
  const schemeHash = scheme !== TPM_ALG_NULL ? r.u16() : 0;
  const curve = r.u16();
  const kdf = r.u16();
  if (kdf !== TPM_ALG_NULL) r.u16();
  const x = r.tpm2b();
  const y = r.tpm2b();
  r.end();
  return { type, nameAlg, attributes, authPolicy, scheme, schemeHash, curve, x, y, area };
}

/** Name of an object: nameAlg || H(TPMT_PUBLIC) (Part 1 §16). Only sha256 names are accepted. */
export async function objectName(area: Uint8Array): Promise<Uint8Array> {
  const nameAlg = ((area[2] as number) << 8) | (area[3] as number);
  if (area.length < 4 || nameAlg !== TPM_ALG_SHA256) throw new VerifyError('bad-evidence', 'object name algorithm is not SHA-256');
  return concat(u16be(TPM_ALG_SHA256), await sha256(area));
}

/** Name of a TPM2B_PUBLIC of any type (nameAlg at offset 4 after the size field). */
export async function nameOfTpm2bPublic(tpm2bPublic: Uint8Array): Promise<Uint8Array> {
  const r = new Reader(tpm2bPublic, 'TPM2B_PUBLIC');
  const area = r.tpm2b();
  r.end();
  return objectName(area);
}

/** Qualified name of a child: nameAlg || H(QN(parent) || Name(child)); QN of a hierarchy is its handle (Part 1 §16.6). */
export async function qualifiedName(parentQn: Uint8Array, childName: Uint8Array): Promise<Uint8Array> {
  return concat(u16be(TPM_ALG_SHA256), await sha256(concat(parentQn, childName)));
}

export async function qualifiedNameUnderEndorsement(ekName: Uint8Array, akName: Uint8Array): Promise<Uint8Array> {
  const ekQn = await qualifiedName(u32be(TPM_RH_ENDORSEMENT), ekName);
  return qualifiedName(ekQn, akName);
}

/** TPMT_SIGNATURE with ECDSA/SHA-256 -> IEEE P1363 r||s (what WebCrypto verifies). */
export function ecdsaSignatureToP1363(sig: Uint8Array): Uint8Array {
  const r = new Reader(sig, 'TPMT_SIGNATURE');
  const alg = r.u16();
  if (alg !== TPM_ALG_ECDSA) throw new VerifyError('bad-evidence', `quote signature algorithm is 0x${alg.toString(16)}, not ECDSA`);
  const hash = r.u16();
  if (hash !== TPM_ALG_SHA256) throw new VerifyError('bad-evidence', `quote signature hash is 0x${hash.toString(16)}, not SHA-256`);
  const rr = r.tpm2b();
  const ss = r.tpm2b();
  r.end();
  return concat(leftPad32(rr, 'r'), leftPad32(ss, 's'));
}

function leftPad32(v: Uint8Array, what: string): Uint8Array {
  let i = 0;
  while (i < v.length - 32 && v[i] === 0) i++;
  const t = v.subarray(i);
  if (t.length > 32) throw new VerifyError('bad-evidence', `ECDSA ${what} is longer than 32 bytes`);
  const out = new Uint8Array(32);
  out.set(t, 32 - t.length);
  return out;
}

/** Policy digest of PolicyPCR chunks (<= 8 PCRs each, as tpm2_policypcr issues them) then PolicySecret(authName) (Part 3 §23.7, §23.4). */
export async function sealPolicyDigest(pcrs: readonly number[], values: ReadonlyMap<number, Uint8Array>, authObjectName: Uint8Array): Promise<Uint8Array> {
  let d: Uint8Array = new Uint8Array(32);
  for (const chunk of pcrChunks(pcrs)) {
    const parts: Uint8Array[] = [];
    for (const p of chunk) {
      const v = values.get(p);
      if (!v || v.length !== 32) throw new VerifyError('bad-evidence', `no SHA-256 value for PCR ${p}`);
      parts.push(v);
    }
    d = await sha256(concat(d, u32be(TPM_CC_PolicyPCR), marshalPcrSelection(chunk), await sha256(concat(...parts))));
  }
  d = await sha256(concat(d, u32be(TPM_CC_PolicySecret), authObjectName));
  return sha256(d); // PolicyUpdate second step with the empty policyRef
}

/** Sorted PCR list split as tpm2-tools 5.4 requires (it refuses more than 8 PCRs per PolicyPCR). */
export function pcrChunks(pcrs: readonly number[]): number[][] {
  const sorted = [...new Set(pcrs)].sort((a, b) => a - b);
  const out: number[][] = [];
  for (let i = 0; i < sorted.length; i += 8) out.push(sorted.slice(i, i + 8));
  return out;
}
