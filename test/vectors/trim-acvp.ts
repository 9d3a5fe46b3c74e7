/**
 * Regenerates the trimmed ML-DSA-65 ACVP vector files in this folder from the full upstream set.
 *
 *   node test/vectors/trim-acvp.ts DIR
 *
 * DIR holds the upstream files, un-gzipped and renamed `<folder>-<file>.json`, for example
 * `ML-DSA-keyGen-FIPS204-prompt.json` from usnistgov/ACVP-Server gen-val/json-files/. Only
 * ML-DSA-65 groups are kept: keyGen (all), sigGen external/pure (deterministic and hedged), and
 * sigVer external/pure. Fields are copied verbatim (upper-case hex as upstream); prompt and expected
 * results are joined per test case so a test reads one file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Obj = Record<string, unknown>;
const dir = process.argv[2];
if (!dir) throw new Error('usage: node test/vectors/trim-acvp.ts DIR_WITH_UPSTREAM_JSON');
const here = new URL('.', import.meta.url).pathname;

function load(name: string): Obj { return JSON.parse(readFileSync(join(dir!, name), 'utf8')) as Obj; }
function groups(o: Obj): Obj[] { return o['testGroups'] as Obj[]; }
function tests(g: Obj): Obj[] { return g['tests'] as Obj[]; }
function byTc(o: Obj): Map<number, Obj> {
  const m = new Map<number, Obj>();
  for (const g of groups(o)) for (const t of tests(g)) m.set(t['tcId'] as number, t);
  return m;
}
function pick(t: Obj, keys: string[]): Obj {
  const o: Obj = {};
  for (const k of keys) { if (t[k] === undefined) throw new Error(`tcId ${String(t['tcId'])} lacks ${k}`); o[k] = t[k]; }
  return o;
}
function header(p: Obj, folder: string): Obj {
  return { source: `usnistgov/ACVP-Server gen-val/json-files/${folder}`, vsId: p['vsId'], algorithm: p['algorithm'], mode: p['mode'], revision: p['revision'] };
}

// keyGen: seed -> pk, sk
{
  const folder = 'ML-DSA-keyGen-FIPS204';
  const p = load(`${folder}-prompt.json`); const e = byTc(load(`${folder}-expectedResults.json`));
  const out = groups(p).filter((g) => g['parameterSet'] === 'ML-DSA-65').map((g) => ({
    tgId: g['tgId'], testType: g['testType'], parameterSet: g['parameterSet'],
    tests: tests(g).map((t) => ({ ...pick(t, ['tcId', 'seed']), ...pick(e.get(t['tcId'] as number)!, ['pk', 'sk']) })),
  }));
  writeFileSync(join(here, 'acvp-ml-dsa-65-keygen.json'), JSON.stringify({ ...header(p, folder), testGroups: out }));
}
// sigGen: external interface, pure, deterministic and hedged (rnd given)
{
  const folder = 'ML-DSA-sigGen-FIPS204';
  const p = load(`${folder}-prompt.json`); const e = byTc(load(`${folder}-expectedResults.json`));
  const out = groups(p).filter((g) => g['parameterSet'] === 'ML-DSA-65' && g['signatureInterface'] === 'external' && g['preHash'] === 'pure').map((g) => ({
    tgId: g['tgId'], testType: g['testType'], parameterSet: g['parameterSet'], deterministic: g['deterministic'],
    signatureInterface: g['signatureInterface'], preHash: g['preHash'],
    tests: tests(g).map((t) => ({
      ...pick(t, g['deterministic'] ? ['tcId', 'sk', 'message', 'context'] : ['tcId', 'sk', 'message', 'context', 'rnd']),
      ...pick(e.get(t['tcId'] as number)!, ['signature']),
    })),
  }));
  writeFileSync(join(here, 'acvp-ml-dsa-65-siggen.json'), JSON.stringify({ ...header(p, folder), testGroups: out }));
}
// sigVer: external interface, pure; expected result and reason from the internal projection
{
  const folder = 'ML-DSA-sigVer-FIPS204';
  const p = load(`${folder}-prompt.json`); const e = byTc(load(`${folder}-internalProjection.json`));
  const out = groups(p).filter((g) => g['parameterSet'] === 'ML-DSA-65' && g['signatureInterface'] === 'external' && g['preHash'] === 'pure').map((g) => ({
    tgId: g['tgId'], testType: g['testType'], parameterSet: g['parameterSet'], signatureInterface: g['signatureInterface'], preHash: g['preHash'],
    tests: tests(g).map((t) => ({ ...pick(t, ['tcId', 'pk', 'message', 'context', 'signature']), ...pick(e.get(t['tcId'] as number)!, ['testPassed', 'reason']) })),
  }));
  writeFileSync(join(here, 'acvp-ml-dsa-65-sigver.json'), JSON.stringify({ ...header(p, folder), testGroups: out }));
}
