/**
 * TPM 2.0 backend over tpm2-tools 5.x (execFile semantics: argv only, never a shell).
 * TCTI: `device:/dev/tpmrm0` on hardware (kernel resource manager) or `swtpm:host=127.0.0.1,port=N`.
 * Without a resource manager the TPM keeps every transient object and session a tool leaves behind
 * (3 object slots on swtpm), so every step is followed by a flush, and one Tpm2 instance runs one
 * command at a time. Secrets (sealed data, auth values) travel on stdin, never in argv or files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { SiosError } from '../errors.ts';
import { bytesEqual, fromBase64url, toBase64url, toHex } from '../encoding/bytes.ts';
import { nameOfTpm2bPublic, qualifiedNameUnderEndorsement } from './tpm-wire.ts';
import { replayPcr, type Measurement } from './event-log.ts';
import type { DeviceIdentity } from './verify-evidence.ts';

export type { DeviceIdentity };

/** TCG reserved-handle registry puts endorsement-hierarchy persistent keys at 0x8101xxxx. */
export const DEFAULT_AK_HANDLE = 0x81010100;

export interface Tpm2Options {
  /** `device:/dev/tpmrm0` or `swtpm:host=127.0.0.1,port=N` (loopback only). */
  readonly tcti: string;
  /** Directory owned by SIOS where identity.json and scratch files live. */
  readonly stateDir: string;
  readonly akHandle?: number;
  /** Per-command limit; a hung TPM must not hang SIOS. */
  readonly commandTimeoutMs?: number;
}

export interface RawQuote {
  readonly attest: Uint8Array;
  readonly signature: Uint8Array;
  readonly pcrValues: Map<number, Uint8Array>;
}

const TCTI_RE = /^(device:\/dev\/tpmrm?[0-9]+|swtpm:host=(127\.0\.0\.1|localhost|::1),port=[0-9]{1,5})$/;

/** A TPM command failed; `rc` is the TPM response code when the TPM produced one. */
export class TpmCommandError extends SiosError {
  readonly rc: number | undefined;
  readonly tool: string;
  constructor(tool: string, rc: number | undefined, stderr: string) {
    const last = stderr.split('\n').filter((l) => l.startsWith('ERROR')).slice(-3).join(' | ') || stderr.slice(-300);
    super('ERR_ATTESTATION', `${tool} failed${rc === undefined ? '' : ` (TPM rc 0x${rc.toString(16)})`}: ${last}; check that the TPM is reachable and not in lockout (sios doctor)`, { details: rc === undefined ? { tool } : { tool, rc } });
    this.name = 'TpmCommandError';
    this.rc = rc;
    this.tool = tool;
  }
  /** The format-1 base code without the handle/session/parameter number (Part 2 §6.6.3). */
  get base(): number | undefined {
    if (this.rc === undefined) return undefined;
    return this.rc & 0x80 ? 0x80 | (this.rc & 0x3f) : this.rc & 0xfff;
  }
}

export const RC_AUTH_FAIL = 0x08e;
export const RC_POLICY_FAIL = 0x09d;
export const RC_INTEGRITY = 0x09f;
export const RC_LOCKOUT = 0x921;

export class Tpm2 {
  readonly tcti: string;
  readonly stateDir: string;
  readonly akHandle: number;
  private readonly timeoutMs: number;
  private queue: Promise<unknown> = Promise.resolve();
  private clean = false;

  constructor(opts: Tpm2Options) {
    const known = new Set(['tcti', 'stateDir', 'akHandle', 'commandTimeoutMs']);
    for (const k of Object.keys(opts)) if (!known.has(k)) throw new SiosError('ERR_INPUT', `unknown TPM option ${k}`);
    if (typeof opts.tcti !== 'string' || !TCTI_RE.test(opts.tcti)) {
      throw new SiosError('ERR_INPUT', `TPM TCTI ${JSON.stringify(opts.tcti)} is not supported; use device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=N`);
    }
    const ak = opts.akHandle ?? DEFAULT_AK_HANDLE;
    if (!Number.isInteger(ak) || ak < 0x81000000 || ak > 0x81ffffff) throw new SiosError('ERR_INPUT', 'akHandle must be a persistent handle 0x81000000..0x81ffffff');
    this.tcti = opts.tcti;
    this.stateDir = path.resolve(opts.stateDir);
    this.akHandle = ak;
    this.timeoutMs = opts.commandTimeoutMs ?? 30_000;
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
  }

  /** Run one tool. stdout is returned as bytes (tpm2_unseal writes the secret there). */
  run(tool: string, args: readonly string[], stdin?: Uint8Array): Promise<Uint8Array> {
    if (!/^tpm2_[a-z0-9]+$/.test(tool)) throw new SiosError('ERR_INTERNAL', `not a tpm2-tools command: ${tool}`);
    return new Promise((resolve, reject) => {
      const child = spawn(tool, args, {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TPM2TOOLS_TCTI: this.tcti },
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: this.timeoutMs,
        killSignal: 'SIGKILL',
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.stdin.on('error', () => { /* the tool may exit before reading; its exit status reports why */ });
      child.on('error', (cause) => reject(new SiosError('ERR_ATTESTATION', `cannot run ${tool}: ${(cause as NodeJS.ErrnoException).code ?? 'spawn failed'}; install tpm2-tools (apt-get install tpm2-tools)`, { cause })));
      child.on('close', (code, signal) => {
        const stderr = Buffer.concat(err).toString('utf8');
        const all = Buffer.concat(out);
        if (code === 0) { resolve(new Uint8Array(all.buffer, all.byteOffset, all.length)); return; }
        if (signal) { reject(new SiosError('ERR_ATTESTATION', `${tool} did not finish within ${this.timeoutMs} ms (${signal}); the TPM at ${this.tcti} is not answering`)); return; }
        const m = /ErrorCode \(0x([0-9a-fA-F]+)\)/.exec(stderr) ?? /\((0x[0-9a-fA-F]+)\)/.exec(stderr);
        const rc = m?.[1] !== undefined ? parseInt(m[1].replace(/^0x/, ''), 16) : undefined;
        reject(new TpmCommandError(tool, rc, stderr));
      });
      child.stdin.end(stdin ?? new Uint8Array(0));
    });
  }

  /** Flush every transient object and session this TPM holds for us (no resource manager on swtpm). */
  async flush(): Promise<void> {
    await this.run('tpm2_flushcontext', ['-t']);
    await this.run('tpm2_flushcontext', ['-l']);
    await this.run('tpm2_flushcontext', ['-s']);
  }

  async flushTransient(): Promise<void> { await this.run('tpm2_flushcontext', ['-t']); }

  /**
   * Serialise TPM use in this process and give the job a private scratch directory. Jobs that load
   * objects or start sessions flush before and after (`flush`, the default); read-only jobs (quote,
   * PCR read) skip it once this instance has flushed whatever an earlier crashed process left.
   */
  exclusive<T>(job: (dir: string) => Promise<T>, opts: { flush?: boolean } = {}): Promise<T> {
    const flush = opts.flush ?? true;
    const next = this.queue.then(async () => {
      const dir = mkdtempSync(path.join(this.stateDir, 'work-'));
      let ok = false;
      try {
        if (flush || !this.clean) await this.flush();
        this.clean = true;
        const out = await job(dir);
        ok = true;
        return out;
      } finally {
        rmSync(dir, { recursive: true, force: true });
        if (flush || !ok) {
          this.clean = false;
          await this.flush().then(() => { this.clean = true; }, () => { /* the job's own error is the one to report */ });
        }
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  get identityPath(): string { return path.join(this.stateDir, 'identity.json'); }

  /**
   * Create the device identity: the ECC P-256 EK (TCG template, deterministic from the endorsement
   * seed) and an AK under it (restricted, sign, fixedTPM|fixedParent, ECDSA-SHA256), persisted at
   * akHandle. Refuses to overwrite an occupied handle unless `replace` is set.
   */
  createIdentity(opts: { replace?: boolean } = {}): Promise<DeviceIdentity> {
    return this.exclusive(async (dir) => {
      const handle = '0x' + this.akHandle.toString(16);
      const occupied = (await this.persistentHandles()).includes(this.akHandle);
      if (occupied && !opts.replace) {
        throw new SiosError('ERR_CONFLICT', `TPM persistent handle ${handle} is already in use; run with replace to evict it, or configure another akHandle`);
      }
      if (occupied) { await this.run('tpm2_evictcontrol', ['-C', 'o', '-c', handle]); }
      const f = (n: string): string => path.join(dir, n);
      await this.run('tpm2_createek', ['-c', f('ek.ctx'), '-G', 'ecc', '-u', f('ek.pub')]);
      await this.flush();
      await this.run('tpm2_createak', ['-C', f('ek.ctx'), '-c', f('ak.ctx'), '-G', 'ecc', '-g', 'sha256', '-s', 'ecdsa', '-u', f('ak.pub'), '-n', f('ak.name'), '-r', f('ak.priv')]);
      await this.flush();
      await this.run('tpm2_evictcontrol', ['-C', 'o', '-c', f('ak.ctx'), handle]);
      await this.flush();
      const ekPub = new Uint8Array(readFileSync(f('ek.pub')));
      const akPub = new Uint8Array(readFileSync(f('ak.pub')));
      const ekName = await nameOfTpm2bPublic(ekPub);
      const akName = await nameOfTpm2bPublic(akPub);
      if (!bytesEqual(akName, new Uint8Array(readFileSync(f('ak.name'))))) {
        throw new SiosError('ERR_ATTESTATION', 'the AK name reported by the TPM does not match its public area; the TPM or tpm2-tools misbehaves');
      }
      const identity: DeviceIdentity = {
        v: 1, kind: 'sios/tpm2-device-identity',
        ekPublic: toBase64url(ekPub), ekName: toHex(ekName),
        akPublic: toBase64url(akPub), akName: toHex(akName),
        akQualifiedName: toHex(await qualifiedNameUnderEndorsement(ekName, akName)),
        akHandle: handle,
      };
      const tmp = this.identityPath + '.tmp';
      writeFileSync(tmp, JSON.stringify(identity, null, 2) + '\n', { mode: 0o600 });
      renameSync(tmp, this.identityPath);
      return identity;
    });
  }

  /** Read identity.json and prove that this TPM holds that EK and AK; otherwise the data directory was copied. */
  loadIdentity(): Promise<DeviceIdentity> {
    return this.exclusive(async (dir) => {
      if (!existsSync(this.identityPath)) throw new SiosError('ERR_NOT_FOUND', `no TPM device identity in ${this.stateDir}; run sios init --tpm`);
      let identity: DeviceIdentity;
      try { identity = JSON.parse(readFileSync(this.identityPath, 'utf8')) as DeviceIdentity; } catch (cause) {
        throw new SiosError('ERR_ATTESTATION', `${this.identityPath} is not valid JSON; restore it from backup or run sios init --tpm again`, { cause });
      }
      const f = (n: string): string => path.join(dir, n);
      await this.run('tpm2_createek', ['-c', f('ek.ctx'), '-G', 'ecc', '-u', f('ek.pub')]);
      await this.flush();
      const ekName = await nameOfTpm2bPublic(new Uint8Array(readFileSync(f('ek.pub'))));
      if (toHex(ekName) !== identity.ekName) {
        throw new SiosError('ERR_ATTESTATION', 'this data directory was initialised on another TPM (endorsement key differs): a copy of an installation cannot act as the original machine; run sios init --tpm on this machine with the operator key restored from backup', { details: { expectedEk: identity.ekName, actualEk: toHex(ekName) } });
      }
      let akPub: Uint8Array;
      try {
        await this.run('tpm2_readpublic', ['-c', identity.akHandle, '-o', f('ak.pub')]);
        akPub = new Uint8Array(readFileSync(f('ak.pub')));
      } catch (cause) {
        throw new SiosError('ERR_ATTESTATION', `the attestation key is missing from TPM handle ${identity.akHandle}; it was evicted or the TPM was cleared: run sios init --tpm again`, { cause });
      }
      if (!bytesEqual(akPub, fromBase64url(identity.akPublic, 'akPublic'))) {
        throw new SiosError('ERR_ATTESTATION', `TPM handle ${identity.akHandle} holds another key than the recorded attestation key; run sios init --tpm again`);
      }
      return identity;
    });
  }

  async persistentHandles(): Promise<number[]> {
    const out = new TextDecoder().decode(await this.run('tpm2_getcap', ['handles-persistent']));
    return [...out.matchAll(/0x([0-9a-fA-F]{8})/g)].map((m) => parseInt(m[1]!, 16));
  }

  /** SHA-256 bank values of `pcrs`, in ascending order. */
  readPcrs(pcrs: readonly number[]): Promise<Map<number, Uint8Array>> {
    return this.exclusive((dir) => this.readPcrsIn(dir, pcrs), { flush: false });
  }

  async readPcrsIn(dir: string, pcrs: readonly number[]): Promise<Map<number, Uint8Array>> {
    const sorted = checkPcrList(pcrs);
    const file = path.join(dir, `pcrs-${sorted.join('-')}.bin`);
    await this.run('tpm2_pcrread', ['-o', file, 'sha256:' + sorted.join(',')]);
    return splitPcrValues(new Uint8Array(readFileSync(file)), sorted);
  }

  /**
   * Measured start: reset the SIOS PCR, extend it once with the measurement digest, read it back and
   * compare with the software replay. Returns the PCR value.
   */
  extendMeasurement(m: Measurement): Promise<Uint8Array> {
    return this.exclusive(async (dir) => {
      checkPcrList([m.pcr]);
      if (m.pcr !== 16 && m.pcr !== 23) throw new SiosError('ERR_INPUT', `PCR ${m.pcr} is not resettable from locality 0; SIOS measures into PCR 23`);
      await this.run('tpm2_pcrreset', [String(m.pcr)]);
      await this.run('tpm2_pcrextend', [`${m.pcr}:sha256=${m.digest}`]);
      const got = (await this.readPcrsIn(dir, [m.pcr])).get(m.pcr)!;
      const want = await replayPcr(m.digest);
      if (!bytesEqual(got, want)) {
        throw new SiosError('ERR_ATTESTATION', `PCR ${m.pcr} reads ${toHex(got)} after the measurement, not the replayed ${toHex(want)}: another process extends this PCR; stop it and restart SIOS`);
      }
      return got;
    }, { flush: false });
  }

  /** TPM2_Quote with the AK over the SHA-256 bank of `pcrs`, qualifying data = nonce. */
  quote(nonce: Uint8Array, pcrs: readonly number[]): Promise<RawQuote> {
    if (!(nonce instanceof Uint8Array) || nonce.length !== 32) throw new SiosError('ERR_INPUT', 'quote nonce must be 32 bytes');
    return this.exclusive(async (dir) => {
      const sorted = checkPcrList(pcrs);
      const f = (n: string): string => path.join(dir, n);
      await this.run('tpm2_quote', ['-c', '0x' + this.akHandle.toString(16), '-l', 'sha256:' + sorted.join(','), '-q', toHex(nonce),
        '-g', 'sha256', '-m', f('attest.bin'), '-s', f('sig.bin'), '-o', f('pcrs.bin'), '-F', 'values']);
      return {
        attest: new Uint8Array(readFileSync(f('attest.bin'))),
        signature: new Uint8Array(readFileSync(f('sig.bin'))),
        pcrValues: splitPcrValues(new Uint8Array(readFileSync(f('pcrs.bin'))), sorted),
      };
    }, { flush: false });
  }

  /** Manufacturer and firmware for `sios doctor`. */
  async describe(): Promise<{ manufacturer: string; firmware: string }> {
    const out = new TextDecoder().decode(await this.exclusive(() => this.run('tpm2_getcap', ['properties-fixed']), { flush: false }));
    const val = (k: string): string => new RegExp(`${k}:\\s*\\n\\s*raw: (0x[0-9A-Fa-f]+)(?:\\s*\\n\\s*value: "([^"]*)")?`).exec(out)?.slice(1).filter(Boolean).reverse()[0] ?? '?';
    return { manufacturer: val('TPM2_PT_MANUFACTURER'), firmware: `${val('TPM2_PT_FIRMWARE_VERSION_1')}/${val('TPM2_PT_FIRMWARE_VERSION_2')}` };
  }
}

export function checkPcrList(pcrs: readonly number[]): number[] {
  if (!Array.isArray(pcrs) || pcrs.length === 0) throw new SiosError('ERR_INPUT', 'PCR list is empty');
  for (const p of pcrs) if (!Number.isInteger(p) || p < 0 || p > 23) throw new SiosError('ERR_INPUT', `PCR ${String(p)} is outside 0..23`);
  return [...new Set(pcrs)].sort((a, b) => a - b);
}

function splitPcrValues(raw: Uint8Array, sorted: readonly number[]): Map<number, Uint8Array> {
  if (raw.length !== 32 * sorted.length) throw new SiosError('ERR_ATTESTATION', `TPM returned ${raw.length} bytes of PCR values for ${sorted.length} PCRs; is the SHA-256 bank enabled?`);
  const m = new Map<number, Uint8Array>();
  sorted.forEach((p, i) => m.set(p, raw.slice(32 * i, 32 * i + 32)));
  return m;
}

