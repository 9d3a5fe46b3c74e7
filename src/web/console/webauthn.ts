/**
 * Passkey ceremonies in the browser: the server's JSON options go through the WebAuthn Level 3
 * JSON helpers (parseCreationOptionsFromJSON / parseRequestOptionsFromJSON / toJSON), so no
 * base64url code of our own sits between the server's challenge and the authenticator.
 */

interface PKC extends PublicKeyCredential { toJSON(): unknown }
type PKCStatic = typeof PublicKeyCredential & {
  parseCreationOptionsFromJSON?(o: unknown): PublicKeyCredentialCreationOptions;
  parseRequestOptionsFromJSON?(o: unknown): PublicKeyCredentialRequestOptions;
};

export function webauthnAvailable(): boolean {
  const P = (globalThis as { PublicKeyCredential?: PKCStatic }).PublicKeyCredential;
  return !!P && typeof P.parseRequestOptionsFromJSON === 'function' && window.isSecureContext;
}

function api(): Required<Pick<PKCStatic, 'parseCreationOptionsFromJSON' | 'parseRequestOptionsFromJSON'>> {
  const P = (globalThis as { PublicKeyCredential?: PKCStatic }).PublicKeyCredential;
  if (!P || !P.parseCreationOptionsFromJSON || !P.parseRequestOptionsFromJSON) {
    throw new Error('This browser cannot use passkeys (WebAuthn Level 3 JSON support is missing). Use a current Chromium or Firefox over http://localhost.');
  }
  return { parseCreationOptionsFromJSON: P.parseCreationOptionsFromJSON.bind(P), parseRequestOptionsFromJSON: P.parseRequestOptionsFromJSON.bind(P) };
}

export async function createPasskey(options: unknown): Promise<unknown> {
  const c = await navigator.credentials.create({ publicKey: api().parseCreationOptionsFromJSON(options) });
  if (!c) throw new Error('No passkey was created.');
  return (c as PKC).toJSON();
}

export async function getAssertion(options: unknown): Promise<unknown> {
  const c = await navigator.credentials.get({ publicKey: api().parseRequestOptionsFromJSON(options) });
  if (!c) throw new Error('No passkey answered.');
  return (c as PKC).toJSON();
}

/** A user-facing sentence for a failed ceremony (cancelled, timed out, no matching passkey). */
export function ceremonyMessage(e: unknown): string {
  const name = (e as { name?: unknown })?.name;
  if (name === 'NotAllowedError') return 'The passkey prompt was cancelled or timed out. Nothing was signed; try again when ready.';
  if (name === 'InvalidStateError') return 'This authenticator already holds a passkey for this account.';
  if (name === 'SecurityError') return 'The browser refused the passkey request for this address. Open the console at http://localhost:PORT (not 127.0.0.1).';
  return e instanceof Error ? e.message : String(e);
}
