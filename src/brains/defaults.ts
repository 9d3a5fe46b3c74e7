/**
 * The signed manifests SIOS ships with: the built-in skills and three scripted brains (no
 * weights), for `sios init` and the demo:
 *   sios.assistant  proposes reads, reports and exports for the example tenants' collections
 *   sios.reviewer   approving brain: approves reads, writes and reports; approves an export only
 *                   when its dry run shows no billing/insurance/counterparty column
 *   sios.obedient   follows any "call <skill> with <json>" found in its context (a stand-in for a
 *                   prompt-injected model, for Sentinel's evaluation; never grant it in production)
 */
import type { Signer } from '../crypto/suite.ts';
import { builtinSkillManifests } from '../skills/builtin.ts';
import { signSkillManifest, type SignedSkill } from '../skills/manifest.ts';
import { signBrainManifest, type BrainManifest, type SignedBrain } from './manifest.ts';
import type { BrainScript } from './scripted.ts';

const PROVENANCE = { builder: 'SIOS project', source: 'sios/src/brains/defaults.ts', built: '2026-11-22T00:00:00Z' } as const;
const ALL_SKILLS = ['documents.generate', 'records.export', 'records.read', 'records.write', 'web.fetch'];

function rulesFor(collection: string): BrainScript['rules'] {
  return [
    { task: ['export', collection], context: [], text: `Exporting ${collection} as CSV.`, calls: [{ skill: 'records.export', args: { collection, format: 'csv' } }] },
    { task: ['report', collection], context: [], text: `Writing a report on ${collection}.`, calls: [{ skill: 'documents.generate', args: { collection, title: '$task', format: 'markdown' } }] },
    { task: [collection], context: [], text: `Reading ${collection}.`, calls: [{ skill: 'records.read', args: { collection, limit: 100 } }] },
  ];
}

export const DEFAULT_BRAINS: readonly BrainManifest[] = [
  {
    id: 'sios.assistant', version: '1.0.0', description: 'Deterministic scripted assistant (no model): reads, reports and exports records of the example tenants.',
    runtime: {
      kind: 'scripted',
      script: {
        rules: [...rulesFor('patients'), ...rulesFor('trades')],
        fallback: { text: 'I have no scripted action for this task.', calls: [] },
        obey: false,
        review: { rules: [], default: { verdict: 'reject', reason: 'sios.assistant does not review actions' } },
      },
    },
    weights: [], skills: ALL_SKILLS, licence: 'Apache-2.0', provenance: PROVENANCE,
  },
  {
    id: 'sios.reviewer', version: '1.0.0', description: 'Deterministic scripted approving brain.',
    runtime: {
      kind: 'scripted',
      script: {
        rules: [], fallback: { calls: [] }, obey: false,
        review: {
          rules: [
            { skill: 'records.export', argsContain: [], dryRunContains: ['insurance_id'], verdict: 'reject', reason: 'the export would include insurance identifiers' },
            { skill: 'records.export', argsContain: [], dryRunContains: ['billing_code'], verdict: 'reject', reason: 'the export would include billing data' },
            { skill: 'records.export', argsContain: [], dryRunContains: ['counterparty'], verdict: 'reject', reason: 'the export would include counterparties' },
            { skill: 'records.export', argsContain: [], dryRunContains: [], verdict: 'approve', reason: 'the export holds no billing, insurance or counterparty column' },
            { skill: 'records.read', argsContain: [], dryRunContains: [], verdict: 'approve', reason: 'reading permitted records' },
            { skill: 'records.write', argsContain: [], dryRunContains: [], verdict: 'approve', reason: 'a single-record write within the principal\'s rights' },
            { skill: 'documents.generate', argsContain: [], dryRunContains: [], verdict: 'approve', reason: 'a report of permitted records' },
          ],
          default: { verdict: 'reject', reason: 'sios.reviewer approves only the built-in record skills' },
        },
      },
    },
    weights: [], skills: ALL_SKILLS, licence: 'Apache-2.0', provenance: PROVENANCE,
  },
  {
    id: 'sios.obedient', version: '1.0.0', description: 'Follows instructions found in its context (prompt-injection stand-in for testing). Never grant in production.',
    runtime: { kind: 'scripted', script: { rules: [], fallback: { calls: [] }, obey: true, review: { rules: [], default: { verdict: 'approve', reason: 'sios.obedient approves everything' } } } },
    weights: [], skills: ALL_SKILLS, licence: 'Apache-2.0', provenance: PROVENANCE,
  },
];

/** Signed manifests of the built-in skills and the default brains, signed by `signer` (the operator). */
export async function builtinManifests(signer: Signer): Promise<{ skills: SignedSkill[]; brains: SignedBrain[] }> {
  const skills: SignedSkill[] = [];
  for (const m of builtinSkillManifests()) skills.push(await signSkillManifest(m, signer));
  const brains: SignedBrain[] = [];
  for (const m of DEFAULT_BRAINS) brains.push(await signBrainManifest(m, signer));
  return { skills, brains };
}
