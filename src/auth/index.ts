/** Public surface of auth/: principals, passkeys, sessions, API tokens and their HTTP handlers. */
export { migrateAuth, AUTH_SCHEMA_VERSION } from './schema.ts';
export type { Clock } from './clock.ts';
export { systemClock } from './clock.ts';
export { PrincipalStore, ROLES, SYSTEM_TENANT, MAX_CLEARANCE, type Principal, type Role, type Clearance, type NewPrincipal, type PrincipalPatch } from './principals.ts';
export { Passkeys, consumeVerifiedAssertion, type PasskeyConfig, type VerifiedAssertion, type AssertionPurpose, type StoredCredential } from './passkeys.ts';
export { verifyStoredAssertion, evidenceToJson, evidenceFromJson, type AssertionEvidence, type AssertionEvidenceJson, type StoredAssertionExpectation, type StoredAssertionResult } from './evidence.ts';
export { Sessions, DEFAULT_POLICIES, checkPolicies, type Session, type SessionPolicy, type ClearancePolicies, type Freshness } from './sessions.ts';
export { ApiTokens, scopeAllows, type ApiToken, type IssueTokenRequest } from './tokens.ts';
export { createAuthHandler, errorResponse, type AuthHttpOptions, type FetchHandler } from './http.ts';
