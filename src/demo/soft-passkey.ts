/**
 * A software passkey for the terminal demo: a real WebAuthn authenticator in software (ECDSA P-256
 * via node:crypto, "none" attestation, user verification flagged), producing the same JSON a
 * browser's navigator.credentials returns. The server verifies its responses with SimpleWebAuthn
 * exactly as it does a hardware key's. It is for the demo only: it cannot prove a person was
 * present. The browser tests use Chromium's WebAuthn with a virtual authenticator instead.
 */
import * as nodeCrypto from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { concat, fromBase64url, toBase64url, utf8 } from '../encoding/bytes.ts';

interface CreationOptions { challenge: string; rp: { id?: string }; user: { id: string } }
interface RequestOptions { challenge: string; rpId?: string }

export class SoftPasskey {
  private readonly key = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private readonly credentialId = new Uint8Array(nodeCrypto.randomBytes(16));
  private counter = 0;
  private userHandle: string | undefined;
  readonly rpID: string;
  readonly origin: string;

  constructor(rpID: string, origin: string) {
    this.rpID = rpID;
    this.origin = origin;
  }

  private authData(flags: number, attested?: Uint8Array): Uint8Array {
    const rpIdHash = new Uint8Array(nodeCrypto.createHash('sha256').update(this.rpID).digest());
    const count = new Uint8Array(4);
    new DataView(count.buffer).setUint32(0, this.counter);
    return concat(rpIdHash, Uint8Array.of(flags), count, attested ?? new Uint8Array(0));
  }

  private cosePublicKey(): Uint8Array {
    const jwk = this.key.publicKey.export({ format: 'jwk' });
    const m = new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, fromBase64url(String(jwk.x))], [-3, fromBase64url(String(jwk.y))]]);
    return isoCBOR.encode(m as never);
  }

  /** navigator.credentials.create() for the given options (registration). */
  create(o: CreationOptions): Record<string, unknown> {
    this.userHandle = o.user.id;
    const clientData = utf8(JSON.stringify({ type: 'webauthn.create', challenge: o.challenge, origin: this.origin, crossOrigin: false }));
    const idLen = Uint8Array.of(this.credentialId.length >> 8, this.credentialId.length & 255);
    const attested = concat(new Uint8Array(16), idLen, this.credentialId, this.cosePublicKey());
    const authData = this.authData(0x01 | 0x04 | 0x40, attested); // UP | UV | AT
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]) as never);
    return {
      id: toBase64url(this.credentialId), rawId: toBase64url(this.credentialId), type: 'public-key',
      response: { clientDataJSON: toBase64url(clientData), attestationObject: toBase64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {}, authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get() for the given options (sign-in, step-up, approval). */
  get(o: RequestOptions): Record<string, unknown> {
    this.counter++;
    const clientData = utf8(JSON.stringify({ type: 'webauthn.get', challenge: o.challenge, origin: this.origin, crossOrigin: false }));
    const authData = this.authData(0x01 | 0x04); // user present and verified
    const clientHash = new Uint8Array(nodeCrypto.createHash('sha256').update(clientData).digest());
    const signature = nodeCrypto.sign('sha256', concat(authData, clientHash), this.key.privateKey);
    return {
      id: toBase64url(this.credentialId), rawId: toBase64url(this.credentialId), type: 'public-key',
      response: { clientDataJSON: toBase64url(clientData), authenticatorData: toBase64url(authData), signature: toBase64url(new Uint8Array(signature)), ...(this.userHandle ? { userHandle: this.userHandle } : {}) },
      clientExtensionResults: {}, authenticatorAttachment: 'platform',
    };
  }
}
