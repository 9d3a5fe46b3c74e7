/**
 * Passkey ceremonies (WebAuthn L3) through SimpleWebAuthn, with user verification required every
 * time. Challenges are 32 random bytes (or, for approvals, the caller's 32-byte intent digest),
 * stored server-side with an expiry and deleted on first use, whatever the outcome. Credential
 * counters are tracked: a validly signed assertion whose counter does not increase is refused as a
 * possible cloned authenticator (WebAuthn §6.1.1).
 */
import type { DatabaseSync } from 'node:sqlite';
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransport, type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { SiosError, isSiosError } from '../errors.ts';
import { bytesEqual, fromBase64url, toBase64url } from '../encoding/bytes.ts';
import { randomBytes } from '../crypto/node.ts';
import { systemClock, type Clock } from './clock.ts';
import { Sql, blob, num, optNum, optStr, str } from './db.ts';
import { checkPrincipalId, type Principal, type PrincipalStore } from './principals.ts';
import { issueSecret, parseSecret, secretMatches, dummyCompare } from './secrets.ts';
import { checkAuthenticationResponse, checkRegistrationResponse, parseClientData } from './webauthn-json.ts';
import type { AssertionEvidence } from './evidence.ts';

/** Why an assertion is asked for; a challenge made for one purpose is refused for any other. */
export type AssertionPurpose = 'login' | 'step-up' | 'switch-tenant' | 'approve';
type ChallengePurpose = AssertionPurpose | 'register';

export interface PasskeyConfig {
  /** WebAuthn relying party id: the host name of the origin, for example "localhost". */
  rpID: string;
  rpName: string;
  /** Exact origins the pages are served from, for example ["http://localhost:8443"]. */
  origins: readonly string[];
  clock?: Clock;
  /** How long a challenge may be answered (default 120 s). */
  challengeTtlSeconds?: number;
  /** Bound on unanswered challenges, so unauthenticated option requests cannot fill the disk. */
  maxPendingChallenges?: number;
}

export interface StoredCredential {
  readonly id: string;
  readonly principalId: string;
  readonly publicKey: Uint8Array;
  readonly counter: number;
  readonly transports: readonly AuthenticatorTransport[];
  readonly aaguid: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

/** The result of a verified, user-verified assertion. Only Passkeys creates these. */
export interface VerifiedAssertion {
  readonly principal: Principal;
  readonly credentialId: string;
  readonly purpose: AssertionPurpose;
  /** The session the challenge was bound to (step-up, switch-tenant), else null. */
  readonly sessionId: string | null;
  /** Purpose-specific context: the target tenant of a switch, else null. */
  readonly context: string | null;
  readonly counter: number;
  readonly verifiedAt: number;
  readonly evidence: AssertionEvidence;
}

const issued = new WeakSet<VerifiedAssertion>();

/**
 * True once for an assertion this module verified: the first call consumes it, so one user
 * verification refreshes at most one session once. Plain objects built elsewhere are refused.
 */
export function consumeVerifiedAssertion(a: VerifiedAssertion): boolean {
  return issued.delete(a);
}

function authError(reason: string, message: string, cause?: unknown): SiosError {
  return new SiosError('ERR_AUTH', message, cause === undefined ? { details: { reason } } : { cause, details: { reason } });
}

export class Passkeys {
  readonly rpID: string;
  readonly origins: readonly string[];
  readonly #rpName: string;
  readonly #sql: Sql;
  readonly #principals: PrincipalStore;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxPending: number;

  constructor(db: DatabaseSync, principals: PrincipalStore, config: PasskeyConfig) {
    const known = ['rpID', 'rpName', 'origins', 'clock', 'challengeTtlSeconds', 'maxPendingChallenges'];
    for (const k of Object.keys(config)) if (!known.includes(k)) throw new SiosError('ERR_INPUT', `unknown passkey option "${k}"; known: ${known.join(', ')}`);
    if (typeof config.rpID !== 'string' || !/^[a-z0-9.-]{1,253}$/.test(config.rpID)) {
      throw new SiosError('ERR_INPUT', 'rpID must be the lower-case host name the pages are served from (for example "localhost")');
    }
    if (!Array.isArray(config.origins) || config.origins.length === 0) throw new SiosError('ERR_INPUT', 'give at least one origin, for example http://localhost:8443');
    for (const o of config.origins) {
      let u: URL;
      try { u = new URL(o); } catch { throw new SiosError('ERR_INPUT', `origin ${o} is not a URL`); }
      if (u.origin !== o) throw new SiosError('ERR_INPUT', `origin ${o} must be a bare origin like ${u.origin}`);
      if (u.hostname !== config.rpID && !u.hostname.endsWith('.' + config.rpID)) throw new SiosError('ERR_INPUT', `origin ${o} is not within rpID ${config.rpID}`);
      // WebAuthn needs a secure context: https, or http only on localhost (W3C Secure Contexts §3.1).
      if (u.protocol !== 'https:' && !(u.protocol === 'http:' && (u.hostname === 'localhost' || u.hostname.endsWith('.localhost')))) {
        throw new SiosError('ERR_INPUT', `origin ${o} is not a secure context; use https, or http://localhost for loopback`);
      }
    }
    this.rpID = config.rpID;
    this.origins = Object.freeze([...config.origins]);
    this.#rpName = config.rpName;
    this.#sql = new Sql(db);
    this.#principals = principals;
    this.#clock = config.clock ?? systemClock;
    const ttl = config.challengeTtlSeconds ?? 120;
    if (!Number.isSafeInteger(ttl) || ttl < 10 || ttl > 600) throw new SiosError('ERR_INPUT', 'challengeTtlSeconds must be an integer in 10..600');
    this.#ttlMs = ttl * 1000;
    this.#maxPending = config.maxPendingChallenges ?? 10_000;
  }

  // ---- enrolment: the first passkey of a principal is bound through a one-time code --------------

  /** A single-use code an administrator hands to a person so they can register their first passkey. */
  createEnrolment(principalId: string, ttlSeconds = 24 * 3600): { code: string; expiresAt: number } {
    const p = this.#principals.requireActive(principalId);
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 7 * 24 * 3600) {
      throw new SiosError('ERR_INPUT', 'enrolment lifetime must be 60 seconds to 7 days');
    }
    const s = issueSecret('enrolment');
    const expiresAt = this.#clock() + ttlSeconds * 1000;
    this.#sql.run('INSERT INTO auth_enrolment (id, hash, principal_id, expires_at) VALUES (?,?,?,?)', s.id, s.hash, p.id, expiresAt);
    return { code: s.text, expiresAt };
  }

  /** Consumes an enrolment code and returns registration options for its principal. */
  async registrationOptionsForEnrolment(code: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const { id, secret } = parseSecret('enrolment', code);
    const principalId = this.#sql.tx(() => {
      const r = this.#sql.get('DELETE FROM auth_enrolment WHERE id = ? RETURNING hash, principal_id, expires_at', id);
      if (!r) { dummyCompare('enrolment', secret); throw authError('enrolment-invalid', 'the enrolment code is not recognised or was already used; ask an administrator for a new one'); }
      if (!secretMatches('enrolment', id, secret, blob(r, 'hash'))) {
        // A wrong secret must not burn someone else's code: put it back.
        this.#sql.run('INSERT INTO auth_enrolment (id, hash, principal_id, expires_at) VALUES (?,?,?,?)', id, blob(r, 'hash'), str(r, 'principal_id'), num(r, 'expires_at'));
        throw authError('enrolment-invalid', 'the enrolment code is not recognised or was already used; ask an administrator for a new one');
      }
      if (num(r, 'expires_at') < this.#clock()) throw authError('enrolment-expired', 'the enrolment code has expired; ask an administrator for a new one');
      return str(r, 'principal_id');
    });
    return this.registrationOptions(principalId);
  }

  /**
   * Registration options for a principal. The caller decides who may add a passkey (an enrolment
   * code, or a fresh session of the same principal); this only builds the ceremony.
   */
  async registrationOptions(principalId: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const p = this.#principals.requireActive(principalId);
    const challenge = randomBytes(32);
    const opts = await generateRegistrationOptions({
      rpName: this.#rpName,
      rpID: this.rpID,
      userName: `${p.name}@${p.tenant}`,
      userDisplayName: p.name,
      userID: this.#principals.userHandle(p.id) as Uint8Array<ArrayBuffer>,
      challenge: challenge as Uint8Array<ArrayBuffer>,
      timeout: this.#ttlMs,
      attestationType: 'none',
      excludeCredentials: this.credentials(p.id).filter((c) => c.revokedAt === null).map((c) => ({ id: c.id, transports: [...c.transports] })),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    });
    this.#storeChallenge(toBase64url(challenge), 'register', p.id, null, null);
    return opts;
  }

  /** Verifies a registration response and stores the credential. */
  async verifyRegistration(input: unknown): Promise<StoredCredential> {
    const response: RegistrationResponseJSON = checkRegistrationResponse(input);
    const client = parseClientData(response.response.clientDataJSON);
    const ch = this.#consumeChallenge(client.challenge, 'register');
    const principal = this.#principals.requireActive(ch.principalId ?? '');
    let info;
    try {
      const res = await verifyRegistrationResponse({
        response,
        expectedChallenge: client.challenge,
        expectedOrigin: [...this.origins],
        expectedRPID: this.rpID,
        expectedType: 'webauthn.create',
        requireUserPresence: true,
        requireUserVerification: true,
      });
      if (!res.verified) throw new Error('registration not verified');
      info = res.registrationInfo;
    } catch (cause) {
      throw authError('registration-invalid', 'the passkey registration did not verify (wrong origin, no user verification, or a corrupt response); try again', cause);
    }
    if (!info.userVerified) throw authError('user-not-verified', 'the authenticator did not verify the user; use an authenticator with a PIN or biometric');
    const now = this.#clock();
    const cred = info.credential;
    if (this.#sql.get('SELECT 1 AS x FROM auth_credential WHERE id = ?', cred.id)) {
      throw new SiosError('ERR_CONFLICT', 'this passkey is already registered; use it to sign in');
    }
    this.#sql.run(`INSERT INTO auth_credential (id, principal_id, public_key, counter, transports, aaguid, device_type, backed_up, created_at)
      VALUES (?,?,?,?,?,?,?,?,?)`, cred.id, principal.id, new Uint8Array(cred.publicKey), cred.counter,
    JSON.stringify(cred.transports ?? response.response.transports ?? []), info.aaguid, info.credentialDeviceType, info.credentialBackedUp ? 1 : 0, now);
    return this.#credential(cred.id)!;
  }

  // ---- assertions -----------------------------------------------------------------------------

  /**
   * Options for an assertion. Login is usernameless (discoverable credentials); the other purposes
   * are restricted to the given principal's credentials and bound to a session and context.
   */
  async authenticationOptions(request: { purpose: Exclude<AssertionPurpose, 'approve'>; principalId?: string; sessionId?: string; context?: string }): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { purpose } = request;
    if (purpose !== 'login' && purpose !== 'step-up' && purpose !== 'switch-tenant') throw new SiosError('ERR_INPUT', 'purpose must be login, step-up or switch-tenant');
    if (purpose !== 'login' && request.sessionId === undefined) throw new SiosError('ERR_INPUT', `a ${purpose} assertion must be bound to a session`);
    const challenge = toBase64url(randomBytes(32));
    const opts = await this.#requestOptions(challenge, request.principalId);
    this.#storeChallenge(challenge, purpose, request.principalId ?? null, request.sessionId ?? null, request.context ?? null);
    return opts;
  }

  /**
   * Options for a human approval of one exact action: the WebAuthn challenge is `digest`, the
   * 32-byte digest of the intent record, so the signature binds this person to that action.
   */
  async assertionForDigest(digest: Uint8Array, request: { principalId: string }): Promise<PublicKeyCredentialRequestOptionsJSON> {
    if (!(digest instanceof Uint8Array) || digest.length !== 32) throw new SiosError('ERR_INPUT', 'the intent digest must be exactly 32 bytes (SHA-256)');
    this.#principals.requireActive(request.principalId);
    const challenge = toBase64url(digest);
    const opts = await this.#requestOptions(challenge, request.principalId);
    // Asking again for the same digest replaces the pending challenge (same action, same person).
    this.#sql.run('DELETE FROM auth_challenge WHERE challenge = ?', challenge);
    this.#storeChallenge(challenge, 'approve', request.principalId, null, null);
    return opts;
  }

  /** Verifies a login, step-up or switch-tenant assertion. */
  async verifyAuthentication(input: unknown, purpose: Exclude<AssertionPurpose, 'approve'>): Promise<VerifiedAssertion> {
    return this.#verifyAssertion(input, purpose, null);
  }

  /**
   * Verifies an approval assertion for exactly `digest` and returns it with its evidence (the raw
   * bytes the ledger stores; re-check them offline with verifyStoredAssertion).
   */
  async verifyDigestAssertion(digest: Uint8Array, input: unknown): Promise<VerifiedAssertion> {
    if (!(digest instanceof Uint8Array) || digest.length !== 32) throw new SiosError('ERR_INPUT', 'the intent digest must be exactly 32 bytes (SHA-256)');
    return this.#verifyAssertion(input, 'approve', toBase64url(digest));
  }

  credentials(principalId: string): StoredCredential[] {
    return this.#sql.all(`SELECT ${CRED_COLS} FROM auth_credential WHERE principal_id = ? ORDER BY created_at`, checkPrincipalId(principalId)).map(credFromRow);
  }

  /** Revokes a passkey: it can no longer sign in, step up or approve. */
  revokeCredential(credentialId: string): void {
    const n = this.#sql.run('UPDATE auth_credential SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', this.#clock(), credentialId);
    if (n === 0) throw new SiosError('ERR_NOT_FOUND', 'no active passkey with that id; list the principal\'s passkeys');
  }

  // ---- internals --------------------------------------------------------------------------------

  async #requestOptions(challenge: string, principalId: string | undefined): Promise<PublicKeyCredentialRequestOptionsJSON> {
    let allowCredentials: { id: string; transports?: AuthenticatorTransport[] }[] | undefined;
    if (principalId !== undefined) {
      const p = this.#principals.requireActive(principalId);
      allowCredentials = this.credentials(p.id).filter((c) => c.revokedAt === null).map((c) => ({ id: c.id, transports: [...c.transports] }));
      if (allowCredentials.length === 0) throw new SiosError('ERR_AUTH', 'this principal has no passkey; register one with an enrolment code first', { details: { reason: 'no-credential' } });
    }
    return generateAuthenticationOptions({
      rpID: this.rpID,
      challenge: fromBase64url(challenge) as Uint8Array<ArrayBuffer>,
      timeout: this.#ttlMs,
      userVerification: 'required',
      ...(allowCredentials ? { allowCredentials } : {}),
    });
  }

  async #verifyAssertion(input: unknown, purpose: AssertionPurpose, digestChallenge: string | null): Promise<VerifiedAssertion> {
    const response: AuthenticationResponseJSON = checkAuthenticationResponse(input);
    const client = parseClientData(response.response.clientDataJSON);
    if (client.type !== 'webauthn.get') throw authError('assertion-invalid', 'the response is not a WebAuthn authentication; send the result of navigator.credentials.get');
    if (digestChallenge !== null && client.challenge !== digestChallenge) {
      throw authError('wrong-digest', 'this approval was signed for a different action; approve the action shown now');
    }
    const ch = this.#consumeChallenge(client.challenge, purpose);
    const cred = this.#credential(response.id);
    if (!cred) throw authError('unknown-credential', 'this passkey is not registered here; register it first or use another');
    if (cred.revokedAt !== null) throw new SiosError('ERR_REVOKED', 'this passkey was revoked; use another passkey or ask an administrator to enrol a new one');
    if (ch.principalId !== null && ch.principalId !== cred.principalId) {
      throw authError('wrong-principal', 'this passkey belongs to someone other than the person this request was for');
    }
    const principal = this.#principals.requireActive(cred.principalId);
    const uh = response.response.userHandle;
    if (uh && !bytesEqual(fromBase64url(uh, 'userHandle'), this.#principals.userHandle(principal.id))) {
      throw authError('assertion-invalid', 'the response names another user than the passkey\'s owner; try again');
    }
    let info;
    try {
      const res = await verifyAuthenticationResponse({
        response,
        expectedChallenge: client.challenge,
        expectedOrigin: [...this.origins],
        expectedRPID: this.rpID,
        expectedType: 'webauthn.get',
        // The counter is compared below, after the signature is known to be genuine.
        credential: { id: cred.id, publicKey: cred.publicKey as Uint8Array<ArrayBuffer>, counter: 0, transports: [...cred.transports] },
        requireUserVerification: true,
      });
      if (!res.verified) throw authError('bad-signature', 'the passkey signature does not verify; try again');
      info = res.authenticationInfo;
    } catch (cause) {
      if (isSiosError(cause)) throw cause;
      throw authError('assertion-invalid', 'the passkey assertion did not verify (wrong origin, no user verification, or a corrupt response); try again', cause);
    }
    if (!info.userVerified) throw authError('user-not-verified', 'the authenticator did not verify the user (PIN or biometric); user verification is required');
    const counter = info.newCounter;
    const now = this.#clock();
    // Counter rule of WebAuthn §6.1.1 step 21: if either counter is non-zero, the new one must be greater.
    const n = this.#sql.run('UPDATE auth_credential SET counter = ?, last_used_at = ? WHERE id = ? AND ((? = 0 AND counter = 0) OR counter < ?)',
      counter, now, cred.id, counter, counter);
    if (n === 0) {
      throw authError('counter-regression', 'this passkey\'s signature counter went backwards, a sign of a cloned authenticator; the assertion is refused. Revoke the passkey and enrol a new one');
    }
    const a: VerifiedAssertion = Object.freeze({
      principal, credentialId: cred.id, purpose, sessionId: ch.sessionId, context: ch.context, counter, verifiedAt: now,
      evidence: Object.freeze({
        v: 1 as const,
        credentialId: cred.id,
        publicKey: cred.publicKey,
        authenticatorData: fromBase64url(response.response.authenticatorData),
        clientDataJSON: fromBase64url(response.response.clientDataJSON),
        signature: fromBase64url(response.response.signature),
        userHandle: uh ? fromBase64url(uh) : null,
      }),
    });
    issued.add(a);
    return a;
  }

  #storeChallenge(challenge: string, purpose: ChallengePurpose, principalId: string | null, sessionId: string | null, context: string | null): void {
    const now = this.#clock();
    this.#sql.run('DELETE FROM auth_challenge WHERE expires_at < ?', now);
    const pending = num(this.#sql.get('SELECT count(*) AS n FROM auth_challenge')!, 'n');
    if (pending >= this.#maxPending) {
      throw new SiosError('ERR_RATE_LIMITED', 'too many unanswered passkey challenges; wait for them to expire and retry');
    }
    this.#sql.run('INSERT INTO auth_challenge (challenge, purpose, principal_id, session_id, context, expires_at) VALUES (?,?,?,?,?,?)',
      challenge, purpose, principalId, sessionId, context, now + this.#ttlMs);
  }

  /** Deletes the challenge (single use, even if what follows fails) and checks purpose and expiry. */
  #consumeChallenge(challenge: string, purpose: ChallengePurpose): { principalId: string | null; sessionId: string | null; context: string | null } {
    const r = this.#sql.get('DELETE FROM auth_challenge WHERE challenge = ? RETURNING purpose, principal_id, session_id, context, expires_at', challenge);
    if (!r) throw authError('challenge-unknown', 'this passkey response answers no open challenge (already used or never issued); start the ceremony again');
    if (str(r, 'purpose') !== purpose) throw authError('wrong-purpose', `this passkey response was made for ${str(r, 'purpose')}, not ${purpose}; start the ceremony again`);
    if (num(r, 'expires_at') < this.#clock()) throw authError('challenge-expired', 'the passkey challenge expired; start the ceremony again');
    return { principalId: optStr(r, 'principal_id'), sessionId: optStr(r, 'session_id'), context: optStr(r, 'context') };
  }

  #credential(id: string): StoredCredential | undefined {
    const r = this.#sql.get(`SELECT ${CRED_COLS} FROM auth_credential WHERE id = ?`, id);
    return r ? credFromRow(r) : undefined;
  }
}

const CRED_COLS = 'id, principal_id, public_key, counter, transports, aaguid, created_at, last_used_at, revoked_at';

function credFromRow(r: Record<string, unknown>): StoredCredential {
  const row = r as Parameters<typeof str>[0];
  return Object.freeze({
    id: str(row, 'id'),
    principalId: str(row, 'principal_id'),
    publicKey: blob(row, 'public_key'),
    counter: num(row, 'counter'),
    transports: Object.freeze(JSON.parse(str(row, 'transports')) as AuthenticatorTransport[]),
    aaguid: str(row, 'aaguid'),
    createdAt: num(row, 'created_at'),
    lastUsedAt: optNum(row, 'last_used_at'),
    revokedAt: optNum(row, 'revoked_at'),
  });
}
