/**
 * Skill manifests: a skill is a typed action. Its manifest fixes the JSON Schemas of arguments and
 * result, the risk class, the clearance a principal needs, egress needs, whether a dry run exists,
 * which arguments may carry untrusted data (Sentinel inspects those) and the highest
 * confidentiality level (0..4) the skill may send out. Parsing is strict: unknown fields are
 * refused, sizes bounded, the schemas compiled in ajv strict mode at parse time.
 */
import { SiosError } from '../errors.ts';
import type { Json } from '../encoding/jcs.ts';
import type { Signer } from '../crypto/suite.ts';
import {
  arr, describeValue, ID_RE, int, obj, openEnvelope, provenance, SHA256_RE, signEnvelope, spdx, str, text, VERSION_RE,
  type Provenance, type SignedEnvelope, type TrustedPublishers,
} from './envelope.ts';
import { compileSchema, validateWith } from './schema.ts';

export type SkillRisk = 'read' | 'write' | 'high-impact';
export type Level = 0 | 1 | 2 | 3 | 4;
export const SKILL_RISKS: readonly SkillRisk[] = ['read', 'write', 'high-impact'];

/** An outbound destination the skill needs (enforced by the perimeter's egress gateway). */
export interface EgressNeed {
  readonly host: string;
  readonly port: number;
}

/** Where the code of the skill lives: built into SIOS, or an installed module pinned by digest. */
export type SkillImplementation =
  | { readonly kind: 'builtin' }
  | { readonly kind: 'module'; readonly path: string; readonly sha256: string; readonly bytes: number };

export interface SkillManifest {
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly risk: SkillRisk;
  /** Clearance (0..4) a principal needs to invoke the skill. */
  readonly clearance: Level;
  readonly argsSchema: Json;
  readonly resultSchema: Json;
  readonly egress: readonly EgressNeed[];
  /** The skill has a dry run (required for high-impact skills). */
  readonly dryRun: boolean;
  /** Top-level argument names that may carry untrusted data (Sentinel). */
  readonly untrustedArgs: readonly string[];
  /** Highest confidentiality level (0..4) of data the skill may send out of the tenant. */
  readonly maxConfidentiality: Level;
  readonly licence: string;
  readonly provenance: Provenance;
  readonly implementation: SkillImplementation;
}

const FIELDS = ['id', 'version', 'description', 'risk', 'clearance', 'argsSchema', 'resultSchema', 'egress', 'dryRun',
  'untrustedArgs', 'maxConfidentiality', 'licence', 'provenance', 'implementation'] as const;
const REQUIRED = FIELDS.filter((f) => f !== 'egress' && f !== 'untrustedArgs' && f !== 'description');

const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
export const REL_PATH_RE = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._/-]{1,255}$/;

export function parseSkillManifest(v: unknown): SkillManifest {
  const o = obj(v, 'skill manifest', FIELDS, REQUIRED);
  const id = str(o['id'], 'skill manifest id', ID_RE, 'a lowercase dotted name like "records.read"');
  const what = `skill ${id}`;
  const version = str(o['version'], `${what} version`, VERSION_RE, 'a semantic version like "1.0.0"');
  const risk = o['risk'];
  if (!SKILL_RISKS.includes(risk as SkillRisk)) throw new SiosError('ERR_INPUT', `${what} risk must be one of ${SKILL_RISKS.join(', ')}, got ${describeValue(risk)}`);
  const argsSchema = o['argsSchema'];
  const resultSchema = o['resultSchema'];
  compileSchema(argsSchema, `${what} argsSchema`);
  compileSchema(resultSchema, `${what} resultSchema`);
  const as = argsSchema as Record<string, unknown>;
  if (as['type'] !== 'object' || as['additionalProperties'] !== false) {
    throw new SiosError('ERR_INPUT', `${what} argsSchema must describe an object with "additionalProperties": false, so unknown arguments are refused`);
  }
  const props = (typeof as['properties'] === 'object' && as['properties'] !== null ? as['properties'] : {}) as Record<string, unknown>;
  const egress = arr(o['egress'] ?? [], `${what} egress`, 16).map((e, i) => {
    const eo = obj(e, `${what} egress[${i}]`, ['host', 'port'], ['host', 'port']);
    return { host: str(eo['host'], `${what} egress[${i}].host`, HOST_RE, 'a lowercase host name or IPv4 address'), port: int(eo['port'], `${what} egress[${i}].port`, 1, 65535) };
  });
  const dryRun = o['dryRun'];
  if (typeof dryRun !== 'boolean') throw new SiosError('ERR_INPUT', `${what} dryRun must be true or false`);
  if (risk === 'high-impact' && !dryRun) throw new SiosError('ERR_INPUT', `${what} is high-impact and must provide a dry run (dryRun: true)`);
  const untrustedArgs = arr(o['untrustedArgs'] ?? [], `${what} untrustedArgs`, 64).map((a, i) => {
    const name = str(a, `${what} untrustedArgs[${i}]`, /^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'an argument name');
    if (!Object.hasOwn(props, name)) throw new SiosError('ERR_INPUT', `${what} untrustedArgs names "${name}", which is not a property of argsSchema`);
    return name;
  });
  if (new Set(untrustedArgs).size !== untrustedArgs.length) throw new SiosError('ERR_INPUT', `${what} untrustedArgs lists an argument twice`);
  const impl = obj(o['implementation'], `${what} implementation`, ['kind', 'path', 'sha256', 'bytes'], ['kind']);
  let implementation: SkillImplementation;
  if (impl['kind'] === 'builtin') {
    if (Object.keys(impl).length !== 1) throw new SiosError('ERR_INPUT', `${what}: a builtin implementation has no path, sha256 or bytes`);
    implementation = { kind: 'builtin' };
  } else if (impl['kind'] === 'module') {
    implementation = {
      kind: 'module',
      path: str(impl['path'], `${what} implementation.path`, REL_PATH_RE, 'a relative path without ".." segments'),
      sha256: str(impl['sha256'], `${what} implementation.sha256`, SHA256_RE, '64 lowercase hex digits'),
      bytes: int(impl['bytes'], `${what} implementation.bytes`, 0, 2 ** 40),
    };
  } else {
    throw new SiosError('ERR_INPUT', `${what} implementation.kind must be "builtin" or "module", got ${describeValue(impl['kind'])}`);
  }
  return {
    id, version,
    description: text(o['description'] ?? '', `${what} description`, 1024),
    risk: risk as SkillRisk,
    clearance: int(o['clearance'], `${what} clearance`, 0, 4) as Level,
    argsSchema: argsSchema as Json,
    resultSchema: resultSchema as Json,
    egress, dryRun, untrustedArgs,
    maxConfidentiality: int(o['maxConfidentiality'], `${what} maxConfidentiality`, 0, 4) as Level,
    licence: spdx(o['licence'], `${what} licence`),
    provenance: provenance(o['provenance'], `${what} provenance`),
    implementation,
  };
}

export type SignedSkill = SignedEnvelope<SkillManifest>;

export interface VerifiedSkill {
  readonly manifest: SkillManifest;
  /** "sha256:<hex>" of the manifest's JCS bytes (recorded in OARs). */
  readonly digest: string;
  /** Fingerprint of the publisher key that signed it. */
  readonly signer: string;
  readonly envelope: SignedSkill;
}

export async function signSkillManifest(manifest: SkillManifest, signer: Signer): Promise<SignedSkill> {
  parseSkillManifest(manifest); // never sign what would not load
  return signEnvelope('skill', manifest, signer);
}

/** Verifies signature (trusted publisher) and parses; throws ERR_VERIFY / ERR_INPUT. */
export async function verifySkillManifest(envelope: unknown, trust: TrustedPublishers): Promise<VerifiedSkill> {
  const r = await openEnvelope('skill', envelope, trust, parseSkillManifest);
  return { ...r, envelope: envelope as SignedSkill };
}

/** Validates arguments against the skill's schema; ERR_INPUT naming the bad field. */
export function validateArgs(skill: SkillManifest, args: unknown): void {
  validateWith(skill.argsSchema, args, `arguments of skill ${skill.id}`);
}

/** Validates a result against the skill's schema; ERR_INPUT naming the bad field. */
export function validateResult(skill: SkillManifest, result: unknown): void {
  validateWith(skill.resultSchema, result, `result of skill ${skill.id}`);
}
