import * as fs from 'node:fs';
import { SiosError } from '../../errors.ts';
import { need, str, type CommandSpec } from '../args.ts';
import { out, table, dataOption, passOption, openApp } from '../context.ts';

export const command: CommandSpec = {
  help: `sios brain — signed capability units (a model plus the skills it may use)

usage:
  sios brain add MANIFEST.json [--weights DIR]     add a signed brain (signature and weights digests verified; fails closed)
  sios brain add-skill MANIFEST.json               add a signed skill
  sios brain builtins                              add the built-in skills and scripted brains (signed by the operator key)
  sios brain list                                  brains, skills and who holds them
  sios brain grant --tenant T --brain ID@VERSION --skill S [--skill S ...]
  sios brain revoke --tenant T --brain ID [--reason TEXT]        instant: in-flight calls are cancelled
  sios brain revoke-everywhere --brain ID@VERSION [--reason TEXT]
Every change is sealed in the ledger before it takes effect.
`,
  options: { ...dataOption, ...passOption, weights: { type: 'string' }, tenant: { type: 'string' }, brain: { type: 'string' }, skill: { type: 'string', multiple: true }, reason: { type: 'string' }, actor: { type: 'string' } },
  async run(args) {
    const sub = args.positionals[0];
    const app = await openApp(args);
    const actor = str(args, 'actor') ?? 'operator';
    try {
      switch (sub) {
        case 'add': case 'add-skill': {
          const file = args.positionals[1];
          if (!file) throw new SiosError('ERR_INPUT', `name the signed manifest: sios brain ${sub} FILE`);
          let env: unknown;
          try { env = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (cause) { throw new SiosError('ERR_INPUT', `${file} is not a readable JSON manifest envelope`, { cause }); }
          if (sub === 'add') {
            const w = str(args, 'weights');
            const b = await app.registry.addBrain(env, { actor, ...(w ? { weightsDir: w } : {}) });
            out(`Added brain ${b.ref} (${b.runtime}, ${b.licence}), manifest ${b.digest.slice(0, 23)}…, signed by ${b.signer.slice(0, 23)}…`);
          } else {
            const s = await app.registry.addSkill(env, { actor });
            out(`Added skill ${s.manifest.id}@${s.manifest.version} (${s.manifest.risk}, clearance ${s.manifest.clearance}), manifest ${s.digest.slice(0, 23)}…`);
          }
          return 0;
        }
        case 'builtins':
          await app.installBuiltins(actor);
          out('Built-in skills and scripted brains are installed (signed by the operator key).');
          return 0;
        case 'list': {
          out(table(['brain', 'runtime', 'licence', 'skills', 'status'], app.registry.listBrains().map((b) => [b.ref, b.runtime, b.licence, b.skills.join(' '), b.revoked === null ? 'active' : 'revoked'])));
          out(table(['skill', 'risk', 'clearance', 'digest'], app.registry.listSkills().map((s) => [`${s.id}@${s.version}`, s.risk, s.clearance, s.digest.slice(0, 23) + '…'])));
          const rows: (string | number)[][] = [];
          for (const t of app.deployment.tenants()) for (const g of app.registry.grants(t.id)) rows.push([t.id, `${g.brain}@${g.version}`, g.skills.join(' '), g.revoked === null ? 'granted' : 'revoked']);
          out(table(['tenant', 'brain', 'skills', 'grant'], rows));
          return 0;
        }
        case 'grant': {
          const skills = (args.values['skill'] as string[] | undefined) ?? [];
          if (skills.length === 0) throw new SiosError('ERR_INPUT', 'name at least one --skill the brain may use in this tenant');
          const g = await app.registry.grant(need(args, 'tenant'), need(args, 'brain'), skills, { actor });
          out(`Granted ${g.brain}@${g.version} to ${g.tenant} for ${g.skills.join(', ')} (sealed in ${g.tenant}'s ledger).`);
          return 0;
        }
        case 'revoke': {
          const g = await app.registry.revoke(need(args, 'tenant'), need(args, 'brain'), { actor, ...(str(args, 'reason') ? { reason: str(args, 'reason') as string } : {}) });
          out(`Revoked ${g.brain} in ${g.tenant}: no new action passes the gate; the revocation is sealed in the ledger.`);
          return 0;
        }
        case 'revoke-everywhere': {
          const r = await app.registry.revokeEverywhere(need(args, 'brain'), { actor, ...(str(args, 'reason') ? { reason: str(args, 'reason') as string } : {}) });
          out(`Revoked ${need(args, 'brain')} (${r.versions.join(', ')}) in ${r.tenants.length} tenant(s): ${r.tenants.join(', ') || 'none'}.`);
          return 0;
        }
        default:
          throw new SiosError('ERR_INPUT', `unknown 'sios brain' action '${sub ?? ''}': use add, add-skill, builtins, list, grant, revoke or revoke-everywhere`);
      }
    } finally {
      await app.close();
    }
  },
};
