/**
 * The example tenants the demo and the integration tests run: the hospital ward and the trading
 * desk from policy/defaults.ts, plus the governance rules for skills (which skills people and
 * brains may invoke, and which need approvals), and a few records.
 */
import { HOSPITAL, TRADING, type ExampleTenant } from '../policy/defaults.ts';
import type { PolicySpec } from './app.ts';

const SKILL_RULES = `
@id("invoke.read-write") @reason("staff and their brains may read, write and report through the record skills")
permit(principal, action == Action::"invoke", resource)
when { resource.risk != "high-impact" };

@id("invoke.export") @approvals("1") @human("required") @reason("an export needs one approving brain and a named person's passkey")
permit(principal, action == Action::"invoke", resource == Skill::"records.export");
`;

/**
 * The runnable examples (demo, integration tests, console tests) run around the clock, so the
 * engine examples' time-of-day rule (no high-impact work 20:00-07:00 UTC, tested in test/policy) is
 * left out here: otherwise the demo would behave differently at night.
 */
function withoutTimeOfDayRules(text: string): string {
  const start = text.indexOf('@id("skill.night-high-impact")');
  if (start < 0) return text;
  const end = text.indexOf(';', start);
  return text.slice(0, start) + text.slice(end + 1);
}

function spec(t: ExampleTenant): PolicySpec {
  return { version: `${t.version}+skills-1`, text: withoutTimeOfDayRules(t.text) + SKILL_RULES, collections: [...t.collections], declarations: t.declarations };
}

export const HOSPITAL_POLICY: PolicySpec = spec(HOSPITAL);
export const TRADING_POLICY: PolicySpec = spec(TRADING);

export const HOSPITAL_ROWS = [
  { id: 'P-1001', name: 'Ada Byron', ward: 'w3', medication: 'amoxicillin 500 mg', diagnosis: 'pneumonia', billing_code: 'J18.9', amount_due: '420.00', insurance_id: 'INS-88-1021', level: 1 },
  { id: 'P-1002', name: 'Alan Turing', ward: 'w3', medication: 'paracetamol 1 g', diagnosis: 'fracture', billing_code: 'S52.5', amount_due: '1210.00', insurance_id: 'INS-88-3341', level: 1 },
  { id: 'P-1003', name: 'Grace Hopper', ward: 'w5', medication: 'insulin', diagnosis: 'diabetes', billing_code: 'E11.9', amount_due: '80.00', insurance_id: 'INS-91-0007', level: 1 },
  { id: 'P-1004', name: 'Edsger Dijkstra', ward: 'w3', medication: 'none', diagnosis: 'observation', billing_code: 'Z03.8', amount_due: '0.00', insurance_id: 'INS-77-4410', level: 3 },
];

export const TRADING_ROWS = [
  { id: 'T-1', desk: 'rates', instrument: 'UST 10Y', side: 'buy', quantity: 100, price: 98.25, notional: 9_825_000, trader: 'kim', counterparty: 'Bank A', level: 1 },
  { id: 'T-2', desk: 'rates', instrument: 'Bund 5Y', side: 'sell', quantity: 50, price: 101.1, notional: 5_055_000, trader: 'lee', counterparty: 'Bank B', level: 1 },
  { id: 'T-3', desk: 'fx', instrument: 'EURUSD', side: 'buy', quantity: 2000, price: 1.08, notional: 2_160_000, trader: 'ana', counterparty: 'Bank C', level: 1 },
  { id: 'T-4', desk: 'rates', instrument: 'UST 30Y', side: 'buy', quantity: 1500, price: 95.5, notional: 143_250_000, trader: 'kim', counterparty: 'Bank A', level: 2 },
];
