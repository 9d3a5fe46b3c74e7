/** Multi-brain approval: k distinct approvers, signed verdicts bound to the intent, fail closed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SiosError } from '../../src/errors.ts';
import { collectApprovals } from '../../src/brains/approval.ts';
import { registryWithDefaults } from './fixture.ts';

const intent = 'sha256:' + '12'.repeat(32);
const exportCall = { skill: 'records.export', args: { collection: 'patients', format: 'csv' } };

test('approvals are signed, bound to the intent, and counted only from distinct non-proposing brains', async () => {
  const { registry } = await registryWithDefaults();
  for (const b of ['sios.assistant@1.0.0', 'sios.reviewer@1.0.0', 'sios.obedient@1.0.0']) await registry.grant('st-mary', b, ['records.export'], { actor: 'op' });
  const base = { registry, tenant: 'st-mary', proposer: 'sios.assistant', intent, proposal: exportCall };
  const ok = await collectApprovals({ ...base, approvers: ['sios.reviewer', 'sios.obedient'], k: 2, dryRun: { columns: ['id', 'name'] } });
  assert.equal(ok.approved, true);
  assert.deepEqual(ok.verdicts.map((v) => [v.brain, v.verdict, v.intent]), [['sios.reviewer@1.0.0', 'approve', intent], ['sios.obedient@1.0.0', 'approve', intent]]);
  for (const v of ok.verdicts) await registry.verifyVerdict(v, { intent });
  const no = await collectApprovals({ ...base, approvers: ['sios.reviewer', 'sios.obedient'], k: 2, dryRun: { columns: ['id', 'insurance_id'] } });
  assert.equal(no.approved, false);
  assert.equal(no.verdicts[0]!.verdict, 'reject');
  await assert.rejects(collectApprovals({ ...base, approvers: ['sios.assistant', 'sios.reviewer'], k: 1, dryRun: null }), (e: unknown) => e instanceof SiosError && e.code === 'ERR_APPROVAL' && /proposing brain/.test(e.message));
  await assert.rejects(collectApprovals({ ...base, approvers: ['sios.reviewer', 'sios.reviewer@1.0.0'], k: 2, dryRun: null }), (e: unknown) => e instanceof SiosError && /listed twice/.test(e.message));
  await assert.rejects(collectApprovals({ ...base, approvers: ['sios.reviewer'], k: 2, dryRun: null }), (e: unknown) => e instanceof SiosError && e.code === 'ERR_APPROVAL');
  // A revoked approver does not count, and the failure is reported.
  await registry.revoke('st-mary', 'sios.obedient', { actor: 'op' });
  const after = await collectApprovals({ ...base, approvers: ['sios.obedient', 'sios.reviewer'], k: 2, dryRun: { columns: ['id'] } });
  assert.equal(after.approved, false);
  assert.deepEqual(after.failures.map((f) => [f.brain, f.code]), [['sios.obedient', 'ERR_REVOKED']]);
});
