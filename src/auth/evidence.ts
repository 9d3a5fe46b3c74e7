/**
 * Stored WebAuthn assertion evidence and its offline re-verification. When a person approves an
 * action, the WebAuthn challenge is exactly the 32-byte digest of the intent record, so the
 * authenticator's signature over authenticatorData || SHA-256(clientDataJSON) (WebAuthn §6.3.3)
 * binds that person's credential to that exact action. The ledger keeps the raw bytes below; this
 * module re-verifies them from those bytes alone, with web-standard crypto only (no node:*), so the
 * same check runs in the offline verifier page.
 *
 * What the check does NOT decide: whether `publicKey` belongs to the person claimed. The verifier
 * must compare it (or its credential id) with the registration recorded in the ledger.
 */
import { verifyAuthenticationResponse } from '@simplewebauthn/server';
import { VerifyError } from '../errors.ts';
import { bytesEqual, fromBase64url, fromUtf8, toBase64url } from '../encoding/bytes.ts';
import { expectObject } from './validate.ts';

export interface AssertionEvidence {
  readonly v: 1;
  /** base64url credential id. */
  readonly credentialId: string;
  /** The credential public key as COSE_Key bytes (RFC 9052 §7), as registered. */
  readonly publicKey: Uint8Array;
  readonly authenticatorData: Uint8Array;
  readonly clientDataJSON: Uint8Array;
  readonly signature: Uint8Array;
  readonly userHandle: Uint8Array | null;
}

/** JSON form for the ledger: binary values as base64url (DESIGN.md, Formats). */
export interface AssertionEvidenceJson {
  v: 1;
  credentialId: string;
  publicKey: string;
  authenticatorData: string;
  clientDataJSON: string;
  signature: string;
  userHandle?: string;
}

export function evidenceToJson(e: AssertionEvidence): AssertionEvidenceJson {
  const j: AssertionEvidenceJson = {
    v: 1, credentialId: e.credentialId, publicKey: toBase64url(e.publicKey), authenticatorData: toBase64url(e.authenticatorData),
    clientDataJSON: toBase64url(e.clientDataJSON), signature: toBase64url(e.signature),
  };
  if (e.userHandle) j.userHandle = toBase64url(e.userHandle);
  return j;
}

export function evidenceFromJson(v: unknown): AssertionEvidence {
  try {
    const o = expectObject(v, 'assertion evidence', ['v', 'credentialId', 'publicKey', 'authenticatorData', 'clientDataJSON', 'signature', 'userHandle'],
      ['v', 'credentialId', 'publicKey', 'authenticatorData', 'clientDataJSON', 'signature']);
    if (o['v'] !== 1) throw new Error('assertion evidence version must be 1');
    const b = (k: string): Uint8Array => {
      const s = o[k];
      if (typeof s !== 'string' || s.length > 16384) throw new Error(`assertion evidence ${k} must be base64url text`);
      return fromBase64url(s, `assertion evidence ${k}`);
    };
    const credentialId = o['credentialId'];
    if (typeof credentialId !== 'string' || credentialId.length === 0 || credentialId.length > 1364) throw new Error('credentialId must be base64url text');
    b('credentialId');
    return {
      v: 1, credentialId, publicKey: b('publicKey'), authenticatorData: b('authenticatorData'), clientDataJSON: b('clientDataJSON'),
      signature: b('signature'), userHandle: o['userHandle'] === undefined ? null : b('userHandle'),
    };
  } catch (cause) {
    throw new VerifyError('malformed', 'the stored assertion evidence is malformed; export the entry again from the ledger', undefined, cause);
  }
}

export interface StoredAssertionExpectation {
  /** The 32-byte digest of the approved intent; it must be the WebAuthn challenge, exactly. */
  digest: Uint8Array;
  rpID: string;
  /** Origins the deployment serves the approval page from (for example http://localhost:8443). */
  origins: readonly string[];
  /** When given, the COSE public key the ledger registered for this credential. */
  publicKey?: Uint8Array;
}

export interface StoredAssertionResult {
  credentialId: string;
  counter: number;
  origin: string;
  userVerified: true;
}

/**
 * Re-verifies stored evidence offline: clientDataJSON is a webauthn.get for exactly `digest` from
 * an allowed origin, authenticatorData is for rpID with user presence and user verification set,
 * and the signature verifies under the stored COSE key. Throws VerifyError, never returns false.
 */
export async function verifyStoredAssertion(evidence: AssertionEvidence, expect: StoredAssertionExpectation): Promise<StoredAssertionResult> {
  if (!(expect.digest instanceof Uint8Array) || expect.digest.length !== 32) {
    throw new VerifyError('malformed', 'the expected intent digest must be 32 bytes (SHA-256)');
  }
  if (expect.publicKey !== undefined && !bytesEqual(expect.publicKey, evidence.publicKey)) {
    throw new VerifyError('unknown-key', 'the assertion was made with a credential key other than the one registered for this person');
  }
  let client: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(fromUtf8(evidence.clientDataJSON, 'clientDataJSON'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    client = parsed as Record<string, unknown>;
  } catch (cause) {
    throw new VerifyError('malformed', 'the stored clientDataJSON is not a JSON object', undefined, cause);
  }
  const wanted = toBase64url(expect.digest);
  if (client['type'] !== 'webauthn.get') throw new VerifyError('bad-evidence', 'the stored assertion is not a WebAuthn authentication (type webauthn.get)');
  if (client['challenge'] !== wanted) throw new VerifyError('bad-evidence', 'the stored assertion approves a different action: its challenge is not this intent digest');
  if (typeof client['origin'] !== 'string' || !expect.origins.includes(client['origin'])) {
    throw new VerifyError('bad-evidence', 'the stored assertion was made on an origin this deployment does not serve');
  }
  let info;
  try {
    const res = await verifyAuthenticationResponse({
      response: {
        id: evidence.credentialId, rawId: evidence.credentialId, type: 'public-key', clientExtensionResults: {},
        response: {
          clientDataJSON: toBase64url(evidence.clientDataJSON),
          authenticatorData: toBase64url(evidence.authenticatorData),
          signature: toBase64url(evidence.signature),
        },
      },
      expectedChallenge: wanted,
      expectedOrigin: [...expect.origins],
      expectedRPID: expect.rpID,
      expectedType: 'webauthn.get',
      // Counter 0: the offline check has no history; counter replay is checked online when recorded.
      credential: { id: evidence.credentialId, publicKey: evidence.publicKey as Uint8Array<ArrayBuffer>, counter: 0 },
      requireUserVerification: true,
    });
    if (!res.verified) throw new VerifyError('bad-signature', 'the authenticator signature over this action does not verify');
    info = res.authenticationInfo;
  } catch (cause) {
    if (cause instanceof VerifyError) throw cause;
    throw new VerifyError('bad-evidence', 'the stored assertion does not verify (wrong relying party, missing user verification, or corrupt bytes)', undefined, cause);
  }
  if (!info.userVerified) throw new VerifyError('bad-evidence', 'the stored assertion lacks user verification');
  return { credentialId: evidence.credentialId, counter: info.newCounter, origin: info.origin, userVerified: true };
}

