/**
 * KeyProtector 'tpm2-seal': the operator's 32-byte KEK is encrypted (AES-256-GCM, aad bound) under a
 * key derived from a random secret sealed in this TPM. The sealed object's policy is
 *   PolicyPCR(boot PCRs 0-7) AND PolicyPCR(PCR 23 = SIOS measurement) AND PolicySecret(auth object)
 * where the auth object's authValue is scrypt(operator passphrase): the TPM counts wrong passphrases
 * (dictionary-attack lockout). A copy of the data directory on another TPM cannot load the sealed
 * object (its storage root key differs); the same machine in a changed state fails PolicyPCR.
 * Secrets (sealed secret, auth value) reach tpm2-tools on stdin only; the unseal runs in a salted
 * session with response encryption so the secret does not cross the TPM bus in clear.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scrypt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SiosError } from '../errors.ts';
import type { KeyProtector, WrappedKey } from '../crypto/protector.ts';
import { bytesEqual, fromBase64url, fromHex, toBase64url, toHex, utf8 } from '../encoding/bytes.ts';
import { nameOfTpm2bPublic, pcrChunks, sealPolicyDigest } from './tpm-wire.ts';
import { BOOT_PCRS, replayPcr, SIOS_PCR } from './event-log.ts';
import { checkPcrList, RC_AUTH_FAIL, RC_INTEGRITY, RC_LOCKOUT, RC_POLICY_FAIL, TpmCommandError, type Tpm2 } from './tpm.ts';

export const TPM_SEAL_KIND = 'tpm2-seal';
const HKDF_INFO = utf8('sios/tpm2-seal/kek-wrap/v1');
const SRK_ATTRS = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|decrypt|noda';

export interface ScryptParams { readonly N: number; readonly r: number; readonly p: number }
const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 15, r: 8, p: 1 };

export interface TpmSealOptions {
  readonly tpm: Tpm2;
  /** The operator passphrase; it becomes the TPM auth value (through scrypt), never stored. */
  readonly passphrase: string;
  /** PCRs in the policy; default boot PCRs 0-7 and PCR 23. */
  readonly pcrs?: readonly number[];
  /** Seal to these values instead of the current ones (a planned update: see expectedPcrsFor). */
  readonly expectedPcrs?: ReadonlyMap<number, Uint8Array>;
  readonly scrypt?: ScryptParams;
}

interface SealedJson {
  kind: string; v: 1;
  srkName: string;
  pcrs: number[];
  sealedPcrs: Record<string, string>;
  /** Measurement digest the SIOS PCR was sealed to when known (diagnostics only). */
  policy: string;
  auth: { public: string; private: string };
  sealed: { public: string; private: string };
  scrypt: { salt: string; N: number; r: number; p: number };
  hkdfSalt: string;
  iv: string;
  ct: string;
}

function deriveAuth(passphrase: string, salt: Uint8Array, prm: ScryptParams): Promise<Uint8Array> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new SiosError('ERR_PASSPHRASE', 'the operator passphrase is empty; supply it to unlock the TPM-sealed key');
  return new Promise((resolve, reject) => {
    scrypt(utf8(passphrase.normalize('NFC')), salt, 24, { N: prm.N, r: prm.r, p: prm.p, maxmem: 256 * prm.N * prm.r }, (err, key) => {
      if (err) reject(new SiosError('ERR_INTERNAL', 'scrypt failed', { cause: err }));
      // ASCII auth value (base64url of 24 bytes = 32 chars) so no tool treats it as a C string.
      else resolve(utf8(toBase64url(new Uint8Array(key))));
    });
  });
}

function checkScrypt(s: ScryptParams): ScryptParams {
  if (!Number.isInteger(s.N) || s.N < 1 << 14 || s.N > 1 << 20 || (s.N & (s.N - 1)) !== 0 || !Number.isInteger(s.r) || s.r < 8 || s.r > 32 || !Number.isInteger(s.p) || s.p < 1 || s.p > 4) {
    throw new SiosError('ERR_INPUT', 'scrypt parameters out of range (N a power of two in 2^14..2^20, r 8..32, p 1..4)');
  }
  return { N: s.N, r: s.r, p: s.p };
}

/** Create the storage root key (ECC P-256, TCG SRK template; deterministic per TPM owner seed) and return its name. */
async function createSrk(tpm: Tpm2, dir: string): Promise<{ ctx: string; name: Uint8Array }> {
  const ctx = path.join(dir, 'srk.ctx');
  await tpm.run('tpm2_createprimary', ['-C', 'o', '-G', 'ecc256:aes128cfb', '-g', 'sha256', '-a', SRK_ATTRS, '-c', ctx]);
  await tpm.flushTransient();
  await tpm.run('tpm2_readpublic', ['-c', ctx, '-o', path.join(dir, 'srk.pub')]);
  await tpm.flushTransient();
  return { ctx, name: await nameOfTpm2bPublic(new Uint8Array(readFileSync(path.join(dir, 'srk.pub')))) };
}

/** Expected PCR values after a planned update: the current boot PCRs and PCR 23 replayed from the new measurement. */
export async function expectedPcrsFor(tpm: Tpm2, newMeasurementDigest: string, pcrs: readonly number[] = [...BOOT_PCRS, SIOS_PCR]): Promise<Map<number, Uint8Array>> {
  const cur = await tpm.readPcrs(pcrs);
  cur.set(SIOS_PCR, await replayPcr(newMeasurementDigest));
  return cur;
}

function anotherTpm(cause?: unknown): SiosError {
  return new SiosError('ERR_ATTESTATION', 'this key was sealed to another TPM (storage root key differs): a copy of the data directory cannot unlock it on this machine; restore the operator key from its backup (passphrase file or shares) and seal it here with `sios attest reseal`', cause === undefined ? undefined : { cause });
}

export class TpmSealProtector implements KeyProtector {
  readonly kind = TPM_SEAL_KIND;
  private readonly tpm: Tpm2;
  private readonly passphrase: string;
  private readonly pcrs: number[];
  private readonly expected: ReadonlyMap<number, Uint8Array> | undefined;
  private readonly scryptParams: ScryptParams;

  constructor(opts: TpmSealOptions) {
    const known = new Set(['tpm', 'passphrase', 'pcrs', 'expectedPcrs', 'scrypt']);
    for (const k of Object.keys(opts)) if (!known.has(k)) throw new SiosError('ERR_INPUT', `unknown tpm2-seal option ${k}`);
    this.tpm = opts.tpm;
    this.passphrase = opts.passphrase;
    this.pcrs = checkPcrList(opts.pcrs ?? [...BOOT_PCRS, SIOS_PCR]);
    if (!this.pcrs.includes(SIOS_PCR)) throw new SiosError('ERR_INPUT', `the seal policy must include the SIOS PCR ${SIOS_PCR}, or a changed installation could unseal`);
    this.expected = opts.expectedPcrs;
    this.scryptParams = checkScrypt(opts.scrypt ?? DEFAULT_SCRYPT);
  }

  async wrap(kek: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    if (!(kek instanceof Uint8Array) || kek.length !== 32) throw new SiosError('ERR_KEY', 'the KEK to seal must be 32 bytes');
    const salt = new Uint8Array(randomBytes(16));
    const authValue = await deriveAuth(this.passphrase, salt, this.scryptParams);
    const secret = new Uint8Array(randomBytes(32));
    try {
      return await this.tpm.exclusive(async (dir) => {
        const f = (n: string): string => path.join(dir, n);
        const srk = await createSrk(this.tpm, dir);
        const values = this.expected ? new Map(this.expected) : await this.tpm.readPcrsIn(dir, this.pcrs);
        for (const p of this.pcrs) if (values.get(p)?.length !== 32) throw new SiosError('ERR_INPUT', `no expected SHA-256 value for PCR ${p}`);
        // The auth object: its authValue is the passphrase-derived value; DA-protected (no noda).
        writeFileSync(f('auth.data'), 'sios-tpm-auth-object');
        await this.tpm.run('tpm2_create', ['-C', srk.ctx, '-g', 'sha256', '-p', 'file:-', '-i', f('auth.data'), '-u', f('auth.pub'), '-r', f('auth.priv'), '-a', 'fixedtpm|fixedparent|userwithauth'], authValue);
        await this.tpm.flushTransient();
        const authPub = new Uint8Array(readFileSync(f('auth.pub')));
        const policy = await sealPolicyDigest(this.pcrs, values, await nameOfTpm2bPublic(authPub));
        writeFileSync(f('policy.bin'), policy);
        // The sealed secret: no userWithAuth, so only the policy opens it; adminWithPolicy too.
        await this.tpm.run('tpm2_create', ['-C', srk.ctx, '-g', 'sha256', '-L', f('policy.bin'), '-i', '-', '-u', f('sealed.pub'), '-r', f('sealed.priv'), '-a', 'fixedtpm|fixedparent|adminwithpolicy'], secret);
        await this.tpm.flushTransient();
        const hkdfSalt = new Uint8Array(randomBytes(32));
        const iv = new Uint8Array(randomBytes(12));
        const wrapKey = new Uint8Array(hkdfSync('sha256', secret, hkdfSalt, HKDF_INFO, 32));
        const c = createCipheriv('aes-256-gcm', wrapKey, iv);
        c.setAAD(aad);
        const ct = new Uint8Array(Buffer.concat([c.update(kek), c.final(), c.getAuthTag()]));
        wrapKey.fill(0);
        const sealedPcrs: Record<string, string> = {};
        for (const p of this.pcrs) sealedPcrs[String(p)] = toHex(values.get(p)!);
        const out: SealedJson = {
          kind: TPM_SEAL_KIND, v: 1, srkName: toHex(srk.name), pcrs: this.pcrs, sealedPcrs, policy: toHex(policy),
          auth: { public: toBase64url(authPub), private: toBase64url(new Uint8Array(readFileSync(f('auth.priv')))) },
          sealed: { public: toBase64url(new Uint8Array(readFileSync(f('sealed.pub')))), private: toBase64url(new Uint8Array(readFileSync(f('sealed.priv')))) },
          scrypt: { salt: toBase64url(salt), ...this.scryptParams },
          hkdfSalt: toBase64url(hkdfSalt), iv: toBase64url(iv), ct: toBase64url(ct),
        };
        return out as unknown as WrappedKey;
      });
    } finally {
      secret.fill(0);
      authValue.fill(0);
    }
  }

  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const w = parseSealed(wrapped);
    const authValue = await deriveAuth(this.passphrase, fromBase64url(w.scrypt.salt), checkScrypt(w.scrypt));
    let secret: Uint8Array | undefined;
    try {
      secret = await this.tpm.exclusive(async (dir) => {
        const f = (n: string): string => path.join(dir, n);
        const srk = await createSrk(this.tpm, dir);
        if (toHex(srk.name) !== w.srkName) throw anotherTpm();
        // Say which PCRs differ before spending a dictionary-attack try on the passphrase.
        const cur = await this.tpm.readPcrsIn(dir, w.pcrs);
        const differ = w.pcrs.filter((p) => toHex(cur.get(p)!) !== w.sealedPcrs[String(p)]);
        if (differ.length) throw stateDiffers(differ);
        writeFileSync(f('auth.pub'), fromBase64url(w.auth.public)); writeFileSync(f('auth.priv'), fromBase64url(w.auth.private));
        writeFileSync(f('sealed.pub'), fromBase64url(w.sealed.public)); writeFileSync(f('sealed.priv'), fromBase64url(w.sealed.private));
        try {
          await this.tpm.run('tpm2_load', ['-C', srk.ctx, '-u', f('auth.pub'), '-r', f('auth.priv'), '-c', f('auth.ctx')]);
          await this.tpm.flushTransient();
          await this.tpm.run('tpm2_load', ['-C', srk.ctx, '-u', f('sealed.pub'), '-r', f('sealed.priv'), '-c', f('sealed.ctx')]);
          await this.tpm.flushTransient();
        } catch (e) {
          if (e instanceof TpmCommandError && (e.base === RC_INTEGRITY || e.rc !== undefined)) throw anotherTpm(e);
          throw e;
        }
        // Salted policy session (secret bound to the SRK) so the response can be encrypted.
        await this.tpm.run('tpm2_startauthsession', ['--policy-session', '-S', f('session.ctx'), '-c', srk.ctx]);
        await this.tpm.flushTransient();
        for (const chunk of pcrChunks(w.pcrs)) await this.tpm.run('tpm2_policypcr', ['-S', f('session.ctx'), '-l', 'sha256:' + chunk.join(',')]);
        try {
          await this.tpm.run('tpm2_policysecret', ['-S', f('session.ctx'), '-c', f('auth.ctx'), 'file:-'], authValue);
        } catch (e) {
          if (e instanceof TpmCommandError && e.base === RC_AUTH_FAIL) {
            throw new SiosError('ERR_PASSPHRASE', 'the TPM refused the operator passphrase for the sealed key; retry with the right passphrase (the TPM locks out after repeated failures)', { cause: e });
          }
          if (e instanceof TpmCommandError && e.rc === RC_LOCKOUT) throw lockout(e);
          throw e;
        }
        await this.tpm.flushTransient();
        await this.tpm.run('tpm2_sessionconfig', [f('session.ctx'), '--enable-encrypt']);
        try {
          return await this.tpm.run('tpm2_unseal', ['-c', f('sealed.ctx'), '-p', `session:${f('session.ctx')}`]);
        } catch (e) {
          if (e instanceof TpmCommandError && e.base === RC_POLICY_FAIL) throw stateDiffers(w.pcrs, e);
          if (e instanceof TpmCommandError && e.rc === RC_LOCKOUT) throw lockout(e);
          throw e;
        }
      });
      if (secret.length !== 32) throw new SiosError('ERR_KEY', 'the TPM-sealed secret has the wrong length; the wrapped key is corrupt: restore it from backup');
      const wrapKey = new Uint8Array(hkdfSync('sha256', secret, fromBase64url(w.hkdfSalt), HKDF_INFO, 32));
      const ctTag = fromBase64url(w.ct);
      if (ctTag.length !== 48) throw new SiosError('ERR_KEY', 'the TPM-wrapped KEK has the wrong length; restore the key from backup');
      try {
        const d = createDecipheriv('aes-256-gcm', wrapKey, fromBase64url(w.iv));
        d.setAAD(aad);
        d.setAuthTag(ctTag.subarray(32));
        return new Uint8Array(Buffer.concat([d.update(ctTag.subarray(0, 32)), d.final()]));
      } catch (cause) {
        throw new SiosError('ERR_KEY', 'the TPM-wrapped KEK does not decrypt: it belongs to another deployment or key (aad differs) or was altered; restore it from backup', { cause });
      } finally { wrapKey.fill(0); }
    } finally {
      authValue.fill(0);
      secret?.fill(0);
    }
  }
}

function stateDiffers(pcrs: readonly number[], cause?: unknown): SiosError {
  const ours = pcrs.includes(SIOS_PCR);
  const what = ours && pcrs.length === 1 ? 'the SIOS installation (code, configuration, trust policy or manifests) changed'
    : ours ? 'the SIOS installation and the boot chain changed' : 'the firmware or boot chain changed';
  return new SiosError('ERR_ATTESTATION', `the TPM refused to unseal: platform state differs from the sealed state (PCR ${pcrs.join(', ')}): ${what}. If this was a planned update, run \`sios attest reseal\` (it checks the operator passphrase, seals the key to the new state and records that in the system ledger); otherwise investigate the change before starting SIOS`, { details: { pcrs: [...pcrs] }, ...(cause === undefined ? {} : { cause }) });
}

function lockout(cause: unknown): SiosError {
  return new SiosError('ERR_ATTESTATION', 'the TPM is in dictionary-attack lockout after repeated wrong passphrases; wait for the lockout interval or clear it with the lockout authority (tpm2_dictionarylockout -c)', { cause });
}

function parseSealed(wrapped: WrappedKey): SealedJson {
  const w = wrapped as unknown as Partial<SealedJson>;
  const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  if (w?.kind !== TPM_SEAL_KIND) throw new SiosError('ERR_KEY', `wrapped key kind ${String(w?.kind)} is not ${TPM_SEAL_KIND}; use the matching protector`);
  if (w.v !== 1 || !str(w.srkName) || !Array.isArray(w.pcrs) || typeof w.sealedPcrs !== 'object' || w.sealedPcrs === null || !str(w.policy)
    || !str(w.auth?.public) || !str(w.auth?.private) || !str(w.sealed?.public) || !str(w.sealed?.private)
    || !str(w.scrypt?.salt) || !str(w.hkdfSalt) || !str(w.iv) || !str(w.ct)) {
    throw new SiosError('ERR_KEY', 'the TPM-wrapped key record is incomplete or malformed; restore it from backup');
  }
  if (fromBase64url(w.ct, 'ct').length !== 48 || fromBase64url(w.iv, 'iv').length !== 12 || fromBase64url(w.hkdfSalt, 'hkdfSalt').length !== 32) {
    throw new SiosError('ERR_KEY', 'the TPM-wrapped KEK has the wrong length; the record is malformed: restore it from backup');
  }
  const pcrs = checkPcrList(w.pcrs);
  for (const p of pcrs) if (!/^[0-9a-f]{64}$/.test(String(w.sealedPcrs[String(p)]))) throw new SiosError('ERR_KEY', `the TPM-wrapped key has no sealed value for PCR ${p}`);
  fromHex(w.srkName, 'srkName');
  return { ...(w as SealedJson), pcrs };
}

/**
 * Planned update: with the machine still in the sealed (old) state, unseal with the operator's
 * passphrase (the approval) and seal again to the expected new state (expectedPcrsFor). Returns the
 * new wrapped key; the caller replaces the stored one atomically and records the reseal in the ledger.
 */
export async function resealTpmKey(tpm: Tpm2, wrapped: WrappedKey, aad: Uint8Array, opts: {
  readonly passphrase: string;
  readonly expectedPcrs: ReadonlyMap<number, Uint8Array>;
  readonly newPassphrase?: string;
  readonly scrypt?: ScryptParams;
}): Promise<WrappedKey> {
  const w = parseSealed(wrapped);
  const kek = await new TpmSealProtector({ tpm, passphrase: opts.passphrase, pcrs: w.pcrs, scrypt: w.scrypt }).unwrap(wrapped, aad);
  try {
    return await new TpmSealProtector({
      tpm, passphrase: opts.newPassphrase ?? opts.passphrase, pcrs: w.pcrs, expectedPcrs: opts.expectedPcrs,
      scrypt: opts.scrypt ?? { N: w.scrypt.N, r: w.scrypt.r, p: w.scrypt.p },
    }).wrap(kek, aad);
  } finally { kek.fill(0); }
}

/** True when the wrapped key was sealed to exactly these PCR values (for `sios doctor`). */
export function sealedTo(wrapped: WrappedKey, values: ReadonlyMap<number, Uint8Array>): boolean {
  const w = parseSealed(wrapped);
  return w.pcrs.every((p) => { const v = values.get(p); return v !== undefined && bytesEqual(v, fromHex(w.sealedPcrs[String(p)]!)); });
}
