/**
 * Strict shape checks for the JSON a browser sends back from navigator.credentials.create/get
 * (PublicKeyCredential.toJSON(), WebAuthn L3 §5.1). Unknown fields and oversized values are refused
 * before any of it reaches SimpleWebAuthn, and clientDataJSON is decoded with a fatal UTF-8 decoder.
 */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { SiosError } from '../errors.ts';
import { fromBase64url, fromUtf8 } from '../encoding/bytes.ts';
import { expectObject, isRecord } from './validate.ts';

const B64URL_RE = /^[A-Za-z0-9_-]*$/;
const TRANSPORTS: readonly string[] = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'];

function b64url(v: unknown, what: string, maxChars: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > maxChars || !B64URL_RE.test(v)) {
    throw new SiosError('ERR_INPUT', `${what} must be non-empty base64url of at most ${maxChars} characters`);
  }
  fromBase64url(v, what); // canonical-encoding check
  return v;
}

function top(v: unknown, what: string): Record<string, unknown> {
  const o = expectObject(v, what, ['id', 'rawId', 'type', 'response', 'clientExtensionResults', 'authenticatorAttachment'],
    ['id', 'rawId', 'type', 'response']);
  // A credential id is at most 1023 bytes (WebAuthn §5.8.3): 1364 base64url characters.
  b64url(o['id'], `${what}.id`, 1364);
  if (o['rawId'] !== o['id']) throw new SiosError('ERR_INPUT', `${what}.rawId must equal ${what}.id (both base64url)`);
  if (o['type'] !== 'public-key') throw new SiosError('ERR_INPUT', `${what}.type must be "public-key"`);
  const ext = o['clientExtensionResults'];
  if (ext !== undefined) {
    const e = expectObject(ext, `${what}.clientExtensionResults`, ['credProps']);
    if (e['credProps'] !== undefined) {
      const cp = expectObject(e['credProps'], `${what}.clientExtensionResults.credProps`, ['rk']);
      if (cp['rk'] !== undefined && typeof cp['rk'] !== 'boolean') throw new SiosError('ERR_INPUT', 'credProps.rk must be a boolean');
    }
  }
  const att = o['authenticatorAttachment'];
  if (att !== undefined && att !== 'platform' && att !== 'cross-platform') {
    throw new SiosError('ERR_INPUT', `${what}.authenticatorAttachment must be "platform" or "cross-platform"`);
  }
  return o;
}

export function checkRegistrationResponse(v: unknown): RegistrationResponseJSON {
  const o = top(v, 'registration response');
  const r = expectObject(o['response'], 'registration response.response',
    ['clientDataJSON', 'attestationObject', 'authenticatorData', 'transports', 'publicKeyAlgorithm', 'publicKey'],
    ['clientDataJSON', 'attestationObject']);
  b64url(r['clientDataJSON'], 'clientDataJSON', 4096);
  b64url(r['attestationObject'], 'attestationObject', 16384);
  if (r['authenticatorData'] !== undefined) b64url(r['authenticatorData'], 'authenticatorData', 8192);
  if (r['publicKey'] !== undefined) b64url(r['publicKey'], 'publicKey', 8192);
  if (r['publicKeyAlgorithm'] !== undefined && (typeof r['publicKeyAlgorithm'] !== 'number' || !Number.isSafeInteger(r['publicKeyAlgorithm']))) {
    throw new SiosError('ERR_INPUT', 'publicKeyAlgorithm must be a COSE algorithm integer');
  }
  const t = r['transports'];
  if (t !== undefined) {
    if (!Array.isArray(t) || t.length > TRANSPORTS.length || !t.every((x) => (TRANSPORTS as readonly unknown[]).includes(x))) {
      throw new SiosError('ERR_INPUT', `transports must be a list of ${TRANSPORTS.join(', ')}`);
    }
  }
  return o as unknown as RegistrationResponseJSON;
}

export function checkAuthenticationResponse(v: unknown): AuthenticationResponseJSON {
  const o = top(v, 'authentication response');
  const r = expectObject(o['response'], 'authentication response.response',
    ['clientDataJSON', 'authenticatorData', 'signature', 'userHandle'], ['clientDataJSON', 'authenticatorData', 'signature']);
  b64url(r['clientDataJSON'], 'clientDataJSON', 4096);
  b64url(r['authenticatorData'], 'authenticatorData', 8192);
  b64url(r['signature'], 'signature', 8192); // room for ML-DSA signatures (3,309 bytes for ML-DSA-65)
  if (r['userHandle'] !== undefined && r['userHandle'] !== null) b64url(r['userHandle'], 'userHandle', 88); // ≤ 64 bytes (§5.4.3)
  return o as unknown as AuthenticationResponseJSON;
}

export interface ClientData { type: string; challenge: string; origin: string; crossOrigin: boolean }

/** Decodes clientDataJSON (WebAuthn §5.8.1) strictly: base64url, fatal UTF-8, JSON object. */
export function parseClientData(b64: string): ClientData {
  const text = fromUtf8(fromBase64url(b64, 'clientDataJSON'), 'clientDataJSON');
  let v: unknown;
  try { v = JSON.parse(text); } catch (cause) {
    throw new SiosError('ERR_INPUT', 'clientDataJSON is not JSON; send the browser\'s response unmodified', { cause });
  }
  if (!isRecord(v) || typeof v['type'] !== 'string' || typeof v['challenge'] !== 'string' || typeof v['origin'] !== 'string') {
    throw new SiosError('ERR_INPUT', 'clientDataJSON lacks type, challenge or origin; send the browser\'s response unmodified');
  }
  return { type: v['type'], challenge: v['challenge'], origin: v['origin'], crossOrigin: v['crossOrigin'] === true };
}
