/**
 * Example tenant policy sets, used by the tests, the benchmark and the demo:
 *  - HOSPITAL: a ward. Nurses see their own ward's patients, clinical columns only (medication,
 *    not billing); doctors see every patient and all but insurance details; billing clerks see
 *    identity and billing columns. Agency nurses never see diagnoses.
 *  - TRADING: a bank's trading floor. Analysts see trades of their own desk only, never the
 *    counterparty, and not the very large trades; risk officers see every desk.
 *  - largeTenant(): a generated bank with many desks (about 10 policies per desk) for the
 *    benchmark and the differential test.
 */
import type { TenantDeclarations } from './schema.ts';
import type { CollectionSpec } from './entities.ts';

export interface ExampleTenant {
  readonly tenant: string;
  readonly version: string;
  readonly declarations: TenantDeclarations;
  readonly collections: readonly CollectionSpec[];
  readonly text: string;
}

export const HOSPITAL: ExampleTenant = {
  tenant: 'st-mary',
  version: 'ward-policy-1',
  declarations: {
    principal: { ward: 'String?' },
    record: { ward: 'String?' },
    args: { dose_mg: 'Long?', patient_ward: 'String?' },
  },
  collections: [{
    name: 'patients',
    clearance: 1,
    idColumn: 'id',
    rowClearanceColumn: 'level',
    columns: {
      id: { clearance: 1, category: 'identity' },
      name: { clearance: 1, category: 'identity' },
      ward: { clearance: 1, category: 'identity' },
      medication: { clearance: 2, category: 'clinical' },
      diagnosis: { clearance: 2, category: 'clinical' },
      billing_code: { clearance: 2, category: 'billing' },
      amount_due: { clearance: 2, category: 'billing' },
      insurance_id: { clearance: 3, category: 'billing' },
    },
  }],
  text: `
// Nurses: own ward only, identity and clinical columns.
@id("nurse.read.own-ward") @reason("nurses read the patients of their own ward")
permit(principal in Role::"nurse", action == Action::"read", resource in Collection::"patients")
when { principal has ward && resource has ward && principal.ward == resource.ward };

@id("nurse.columns") @reason("nurses see identity and clinical columns")
permit(principal in Role::"nurse", action == Action::"readColumn", resource in Collection::"patients")
when { resource.category == "identity" || resource.category == "clinical" };

@id("nurse.write.own-ward") @reason("nurses update the patients of their own ward")
permit(principal in Role::"nurse", action == Action::"write", resource in Collection::"patients")
when { principal has ward && resource has ward && principal.ward == resource.ward };

@id("nurse.write.medication") @reason("nurses record medication")
permit(principal in Role::"nurse", action == Action::"writeColumn", resource == Column::"patients/medication");

@id("agency.no-diagnosis") @reason("agency staff never see diagnoses")
forbid(principal in Role::"agency", action, resource == Column::"patients/diagnosis");

// Doctors: every patient, everything but insurance details.
@id("doctor.read.all") @reason("doctors read every patient")
permit(principal in Role::"doctor", action == Action::"read", resource in Collection::"patients");

@id("doctor.columns") @reason("doctors see all columns except insurance details")
permit(principal in Role::"doctor", action == Action::"readColumn", resource in Collection::"patients")
unless { resource.name == "insurance_id" };

@id("doctor.write") @reason("doctors update any patient's clinical columns")
permit(principal in Role::"doctor", action in [Action::"write", Action::"writeColumn"], resource in Collection::"patients")
unless { resource is Column && resource.category != "clinical" };

// Billing clerks: identity and billing columns of every patient.
@id("billing.read.all") @reason("billing clerks read every patient's billing record")
permit(principal in Role::"billing-clerk", action in [Action::"read", Action::"write"], resource in Collection::"patients");

@id("billing.columns") @reason("billing clerks see identity and billing columns")
permit(principal in Role::"billing-clerk", action == Action::"readColumn", resource in Collection::"patients")
when { resource.category == "identity" || resource.category == "billing" };

@id("billing.write.columns") @reason("billing clerks update billing columns")
permit(principal in Role::"billing-clerk", action == Action::"writeColumn", resource in Collection::"patients")
when { resource.category == "billing" };

// Skills.
@id("skill.summarise") @reason("clinical assistants may summarise notes")
permit(principal in Role::"clinical-assistant", action == Action::"invoke", resource == Skill::"summarise-notes");

@id("skill.prescribe") @approvals("1") @human("required") @reason("a draft prescription up to 1000 mg needs one approving brain and a clinician")
permit(principal in Role::"clinical-assistant", action == Action::"invoke", resource == Skill::"draft-prescription")
when { context.args has dose_mg && context.args.dose_mg <= 1000 };

@id("skill.rate-cap") @reason("the rate limit for this skill is reached")
forbid(principal, action == Action::"invoke", resource)
when { context.rate.count >= context.rate.limit };

@id("skill.night-high-impact") @reason("high-impact skills are not run between 20:00 and 07:00 UTC")
forbid(principal, action == Action::"invoke", resource)
when { resource.risk == "high-impact" && (context.hour < 7 || context.hour >= 20) };
`,
};

export const TRADING: ExampleTenant = {
  tenant: 'northbank',
  version: 'desk-policy-1',
  declarations: {
    principal: { desk: 'String?' },
    record: { desk: 'String?', notional: 'Long?' },
    args: { notional: 'Long?', instrument: 'String?' },
  },
  collections: [{
    name: 'trades',
    clearance: 1,
    idColumn: 'id',
    rowClearanceColumn: 'level',
    columns: {
      id: { clearance: 1, category: 'reference' },
      desk: { clearance: 1, category: 'reference' },
      instrument: { clearance: 1, category: 'trade' },
      side: { clearance: 1, category: 'trade' },
      quantity: { clearance: 1, category: 'trade' },
      price: { clearance: 1, category: 'trade' },
      notional: { clearance: 2, category: 'trade' },
      trader: { clearance: 2, category: 'people' },
      counterparty: { clearance: 3, category: 'counterparty' },
      level: { clearance: 1, category: 'reference' },
    },
  }],
  text: `
@id("analyst.own-desk") @reason("analysts read the trades of their own desk")
permit(principal in Role::"analyst", action == Action::"read", resource in Collection::"trades")
when { principal has desk && resource has desk && principal.desk == resource.desk };

@id("analyst.columns") @reason("analysts see trade columns but not the counterparty")
permit(principal in Role::"analyst", action == Action::"readColumn", resource in Collection::"trades")
unless { resource.category == "counterparty" };

@id("analyst.no-jumbo") @reason("trades of 100 million or more are reserved to risk officers")
forbid(principal in Role::"analyst", action, resource in Collection::"trades")
when { resource is Record && resource has notional && resource.notional >= 100000000 };

@id("risk.all") @reason("risk officers read every desk")
permit(principal in Role::"risk-officer", action in [Action::"read", Action::"readColumn"], resource in Collection::"trades");

@id("trader.write.own-desk") @reason("traders amend their desk's trades (price and quantity)")
permit(principal in Role::"trader", action == Action::"write", resource in Collection::"trades")
when { principal has desk && resource has desk && principal.desk == resource.desk };

@id("trader.write.columns")
permit(principal in Role::"trader", action == Action::"writeColumn", resource in Collection::"trades")
when { ["price", "quantity"].contains(resource.name) };

@id("order.place") @approvals("2") @human("required") @reason("orders up to 5 million in market hours need two approving brains and a human")
permit(principal in Role::"trading-brain", action == Action::"invoke", resource == Skill::"place-order")
when { context.args has notional && context.args.notional <= 5000000 && context.hour >= 8 && context.hour < 17 };

@id("quote.read") @reason("trading brains may fetch quotes")
permit(principal in Role::"trading-brain", action == Action::"invoke", resource == Skill::"get-quote");

@id("quote.rate") @reason("quote rate limit reached")
forbid(principal, action == Action::"invoke", resource == Skill::"get-quote")
when { context.rate.count >= context.rate.limit };
`,
};

/** Small deterministic PRNG (mulberry32) so generated tenants are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const LARGE_COLUMNS = ['id', 'desk', 'book', 'instrument', 'side', 'quantity', 'price', 'notional', 'trader', 'counterparty'] as const;

/**
 * A bank with `desks` desks and about 10 policies per desk, in the styles real tenants mix:
 * role-scoped per-desk policies (`principal in Role::"desk-7"`), attribute-matched ones
 * (`principal.desk == "desk-7"`), per-desk forbids, writes, skills, plus policies on other
 * collections. desks = 100 gives 1,000 policies.
 */
export function largeTenant(desks: number, seed = 1): ExampleTenant {
  const rnd = prng(seed);
  const p: string[] = [];
  const collections: CollectionSpec[] = [];
  const cols: Record<string, { clearance: 0 | 1 | 2 | 3 | 4; category: string }> = {
    id: { clearance: 0, category: 'reference' }, desk: { clearance: 0, category: 'reference' },
    book: { clearance: 1, category: 'reference' }, instrument: { clearance: 1, category: 'trade' },
    side: { clearance: 1, category: 'trade' }, quantity: { clearance: 1, category: 'trade' },
    price: { clearance: 1, category: 'trade' }, notional: { clearance: 2, category: 'trade' },
    trader: { clearance: 2, category: 'people' }, counterparty: { clearance: 3, category: 'counterparty' },
  };
  collections.push({ name: 'trades', clearance: 0, idColumn: 'id', rowClearanceColumn: 'level', columns: cols });
  for (const other of ['positions', 'clients', 'limits']) {
    collections.push({ name: other, clearance: 1, idColumn: 'id', columns: { id: { clearance: 1, category: 'reference' }, desk: { clearance: 1, category: 'reference' }, value: { clearance: 2, category: 'trade' } } });
  }
  for (let d = 0; d < desks; d++) {
    const desk = `desk-${d}`;
    const limit = 1_000_000 * (1 + Math.floor(rnd() * 500));
    const book = `book-${Math.floor(rnd() * 8)}`;
    p.push(`@id("${desk}.read") permit(principal in Role::"${desk}", action == Action::"read", resource in Collection::"trades") when { resource has desk && resource.desk == "${desk}" };`);
    p.push(`@id("${desk}.analyst.read") permit(principal in Role::"analyst", action == Action::"read", resource in Collection::"trades") when { principal has desk && principal.desk == "${desk}" && resource has desk && resource.desk == "${desk}" && resource has notional && resource.notional < ${limit} };`);
    p.push(`@id("${desk}.columns") permit(principal in Role::"${desk}", action == Action::"readColumn", resource in Collection::"trades") unless { resource.category == "counterparty" };`);
    p.push(`@id("${desk}.big") forbid(principal in Role::"junior", action == Action::"read", resource in Collection::"trades") when { resource has desk && resource.desk == "${desk}" && resource has notional && resource.notional > ${limit * 4} };`);
    p.push(`@id("${desk}.book") forbid(principal in Role::"${desk}", action == Action::"read", resource in Collection::"trades") when { resource has book && resource.book == "${book}" && principal.clearance < 2 };`);
    p.push(`@id("${desk}.write") permit(principal in Role::"${desk}", action == Action::"write", resource in Collection::"trades") when { resource has desk && resource.desk == "${desk}" };`);
    p.push(`@id("${desk}.write.cols") permit(principal in Role::"${desk}", action == Action::"writeColumn", resource in Collection::"trades") when { ["price", "quantity", "side"].contains(resource.name) };`);
    p.push(`@id("${desk}.positions") permit(principal in Role::"${desk}", action in [Action::"read", Action::"readColumn"], resource in Collection::"positions");`);
    p.push(`@id("${desk}.skill") @approvals("${1 + (d % 3)}") @human("required") permit(principal in Role::"${desk}", action == Action::"invoke", resource == Skill::"order-${desk}") when { context.args has notional && context.args.notional <= ${limit} };`);
    p.push(`@id("${desk}.clients") permit(principal in Role::"${desk}", action == Action::"read", resource in Collection::"clients") when { resource has desk && resource.desk == "${desk}" };`);
  }
  p.push('@id("risk.read") permit(principal in Role::"risk-officer", action in [Action::"read", Action::"readColumn"], resource);');
  p.push('@id("ops.no-counterparty") forbid(principal in Role::"ops", action == Action::"readColumn", resource == Column::"trades/counterparty");');
  return {
    tenant: 'bigbank', version: `generated-${desks}-${seed}`,
    declarations: { principal: { desk: 'String?' }, record: { desk: 'String?', notional: 'Long?', book: 'String?' }, args: { notional: 'Long?' } },
    collections, text: p.join('\n'),
  };
}

/** Rows for `largeTenant` trades: desks drawn from the first `desks` desks, levels 0..4. */
export function largeTenantRows(n: number, desks: number, seed = 2): Record<string, unknown>[] {
  const rnd = prng(seed);
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      id: i, desk: `desk-${Math.floor(rnd() * desks)}`, book: `book-${Math.floor(rnd() * 8)}`,
      instrument: `XS${1000 + i}`, side: rnd() < 0.5 ? 'buy' : 'sell', quantity: 1 + Math.floor(rnd() * 1000),
      price: 1 + Math.floor(rnd() * 100_000), notional: Math.floor(rnd() * 2_000_000_000),
      trader: `t${Math.floor(rnd() * 50)}`, counterparty: `cp${Math.floor(rnd() * 30)}`, level: Math.floor(rnd() * 5),
    });
  }
  return rows;
}
