import { SiosError } from '../../errors.ts';
import type { Json } from '../../encoding/jcs.ts';
import { flag, need, str, type CommandSpec } from '../args.ts';
import { out, table, dataOption, passOption, openApp } from '../context.ts';
import { runTurn } from '../../gate/agent.ts';

export const command: CommandSpec = {
  help: `sios act — people, tokens and actions through the gate

usage:
  sios act principal --tenant T --name N --role member|tenant-admin|auditor --clearance 0-4 [--attr k=v ...]
                   (--tenant _system --role operator adds an operator: runs the machine, sees no tenant data)
                                   add a person; prints a one-time enrolment code for their passkey
  sios act update --tenant T --name N [--clearance 0-4] [--role R] [--attr k=v ...] [--disable]
                                   change a person (sealed in the tenant ledger before it applies)
  sios act token --tenant T --name N [--scope skills.invoke.* ...]   an API token for a machine (shown once)
  sios act tokens --tenant T                   the tenant's API tokens (ids, owners, scopes, last use; never secrets)
  sios act revoke-token --tenant T --id ID     revoke an API token at once (sealed)
  sios act run --token TOK --tenant T --skill S --args JSON [--brain ID@V]   submit one action
  sios act task --token TOK --tenant T --brain ID@V --task TEXT      a brain proposes; each call goes through the gate
  sios act approvals --token TOK --tenant T                          pending high-impact actions
  sios act reject --token TOK --tenant T --id ID --reason TEXT
  sios act events --tenant T [--after N] [--follow]                  the tenant's ledger as it grows
Approving needs a person's passkey: open the approval page of 'sios serve'.
`,
  options: {
    ...dataOption, ...passOption, tenant: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, clearance: { type: 'string' },
    attr: { type: 'string', multiple: true }, disable: { type: 'boolean' }, scope: { type: 'string', multiple: true }, token: { type: 'string' }, skill: { type: 'string' },
    args: { type: 'string' }, brain: { type: 'string' }, task: { type: 'string' }, id: { type: 'string' }, reason: { type: 'string' },
    after: { type: 'string' }, follow: { type: 'boolean' },
  },
  async run(a) {
    const sub = a.positionals[0];
    const app = await openApp(a);
    try {
      switch (sub) {
        case 'principal': {
          const attrs: Record<string, string> = {};
          for (const kv of (a.values['attr'] as string[] | undefined) ?? []) {
            const i = kv.indexOf('=');
            if (i < 1) throw new SiosError('ERR_INPUT', `--attr takes key=value, got '${kv}'`);
            attrs[kv.slice(0, i)] = kv.slice(i + 1);
          }
          const role = need(a, 'role');
          const tenant = need(a, 'tenant');
          // Operators live in the reserved '_system' tenant of identities; their events go to the system ledger.
          const operator = tenant === '_system';
          if (operator ? role !== 'operator' : !['member', 'tenant-admin', 'auditor'].includes(role)) {
            throw new SiosError('ERR_INPUT', operator ? "in --tenant _system the only role is 'operator'" : '--role is member, tenant-admin or auditor');
          }
          if (!operator && !app.deployment.tenantRow(tenant)) throw new SiosError('ERR_NOT_FOUND', `no tenant ${tenant}`);
          const ledger = app.deployment.ledger(operator ? 'system' : tenant);
          const name = need(a, 'name'), clearance = Number(need(a, 'clearance'));
          await ledger.seal({ kind: 'admin', body: { action: operator ? 'operator-added' : 'member-added', name, role, clearance, actor: 'operator' } });
          const pr = app.principals.create({ tenant, name, role: role as 'member', clearance, attributes: attrs });
          const e = app.passkeys.createEnrolment(pr.id);
          out(`Added ${pr.name} (${pr.id}) to ${tenant}. One-time passkey enrolment code: ${e.code} (expires ${new Date(e.expiresAt * (e.expiresAt < 1e12 ? 1000 : 1)).toISOString()})`);
          return 0;
        }
        case 'update': {
          const tenant = need(a, 'tenant');
          const pr = app.principals.findByName(tenant, need(a, 'name'));
          if (!pr) throw new SiosError('ERR_NOT_FOUND', `no principal named ${need(a, 'name')} in ${tenant}`);
          const patch: { clearance?: number; role?: 'member' | 'tenant-admin' | 'auditor'; attributes?: Record<string, string>; disabled?: boolean } = {};
          const c = str(a, 'clearance');
          if (c !== undefined) patch.clearance = Number(c);
          const role = str(a, 'role');
          if (role !== undefined) {
            if (!['member', 'tenant-admin', 'auditor'].includes(role)) throw new SiosError('ERR_INPUT', '--role is member, tenant-admin or auditor');
            patch.role = role as 'member';
          }
          const attrs = (a.values['attr'] as string[] | undefined) ?? [];
          if (attrs.length) {
            patch.attributes = { ...pr.attributes };
            for (const kv of attrs) { const i = kv.indexOf('='); if (i < 1) throw new SiosError('ERR_INPUT', `--attr takes key=value, got '${kv}'`); patch.attributes[kv.slice(0, i)] = kv.slice(i + 1); }
          }
          if (flag(a, 'disable')) patch.disabled = true;
          if (Object.keys(patch).length === 0) throw new SiosError('ERR_INPUT', 'nothing to change: give --clearance, --role, --attr or --disable');
          // Sealed before it takes effect (issue 3: every administrative change is an OAR first).
          await app.deployment.ledger(tenant).seal({ kind: 'admin', body: { action: patch.clearance !== undefined && patch.clearance !== pr.clearance ? 'clearance-changed' : 'member-updated', principal: pr.id, from: { clearance: pr.clearance, role: pr.role, disabled: pr.disabled }, to: { ...(patch.clearance !== undefined ? { clearance: patch.clearance } : {}), ...(patch.role ? { role: patch.role } : {}), ...(patch.disabled ? { disabled: true } : {}), ...(patch.attributes ? { attributes: Object.keys(patch.attributes).sort().join(',') } : {}) }, actor: 'operator' } });
          const up = app.principals.update(pr.id, patch);
          if (patch.disabled) app.sessions.revokeAll(pr.id);
          out(`${up.name}: clearance ${up.clearance}, role ${up.role}${up.disabled ? ', disabled (sessions ended)' : ''}.`);
          return 0;
        }
        case 'token': {
          const tenant = need(a, 'tenant');
          const pr = app.principals.findByName(tenant, need(a, 'name'));
          if (!pr) throw new SiosError('ERR_NOT_FOUND', `no principal named ${need(a, 'name')} in ${tenant}`);
          const scope = (a.values['scope'] as string[] | undefined) ?? ['skills.invoke.*', 'ledger.read'];
          const t = app.tokens.issue({ principalId: pr.id, scope });
          await app.deployment.ledger(tenant).seal({ kind: 'admin', body: { action: 'token-issued', principal: pr.id, token: t.record.id, scope, actor: 'operator' } });
          out(t.token);
          process.stderr.write(`API token for ${pr.name} in ${tenant} (scope ${scope.join(', ')}). It is shown once; SIOS keeps only its hash.\n`);
          return 0;
        }
        case 'tokens': {
          const list = app.tokens.list(need(a, 'tenant'));
          out(table(['id', 'principal', 'scope', 'last used', 'status'], list.map((t) => [t.id, t.principalId, t.scope.join(' '), t.lastUsedAt ? new Date(t.lastUsedAt).toISOString() : '—', t.revokedAt ? 'revoked' : 'active'])));
          return 0;
        }
        case 'revoke-token': {
          const tenant = need(a, 'tenant');
          const t = app.tokens.get(need(a, 'id'));
          if (!t || t.tenant !== tenant) throw new SiosError('ERR_NOT_FOUND', `no API token ${need(a, 'id')} in ${tenant}; 'sios act tokens --tenant ${tenant}' lists them`);
          await app.deployment.ledger(tenant).seal({ kind: 'admin', body: { action: 'token-revoked', token: t.id, principal: t.principalId, actor: 'operator' } });
          app.tokens.revoke(t.id);
          out(`API token ${t.id} revoked; it is refused from now on.`);
          return 0;
        }
        case 'run': {
          let args: Json = {};
          const raw = str(a, 'args');
          if (raw) { try { args = JSON.parse(raw) as Json; } catch (cause) { throw new SiosError('ERR_INPUT', '--args is not valid JSON', { cause }); } }
          const r = await app.gate.submit({ credential: need(a, 'token'), tenant: need(a, 'tenant'), brain: str(a, 'brain') ?? null, skill: need(a, 'skill'), args });
          out(JSON.stringify(r.status === 'done' ? { status: r.status, intent: r.intent, outcome: r.outcome, result: r.result } : r, null, 2));
          return 0;
        }
        case 'task': {
          const r = await runTurn({ gate: app.gate, registry: app.registry, guard: app.sentinel?.guard, memory: app.memory(need(a, 'tenant')), credential: need(a, 'token'), tenant: need(a, 'tenant'), brain: need(a, 'brain'), task: need(a, 'task') });
          if (r.text) out(r.text);
          out(table(['skill', 'status', 'ledger / error'], r.calls.map((c) => [c.skill, c.result?.status ?? 'refused', c.result ? (c.result.status === 'done' ? `intent ${c.result.intent}, outcome ${c.result.outcome}` : `approval ${c.result.approval}`) : `${c.error?.code}: ${c.error?.message}`])));
          return r.calls.every((c) => c.result) ? 0 : 1;
        }
        case 'approvals': {
          const list = app.gate.listPending(need(a, 'tenant'), need(a, 'token'));
          out(table(['id', 'skill', 'brain', 'requester', 'expires'], list.map((x) => [x.id, x.skill, x.brain ?? '—', x.requester, new Date(x.expiresAt).toISOString()])));
          return 0;
        }
        case 'reject':
          await app.gate.reject(need(a, 'tenant'), need(a, 'id'), need(a, 'token'), need(a, 'reason'));
          out('Rejected; the rejection is sealed in the ledger.');
          return 0;
        case 'events': {
          const tenant = need(a, 'tenant');
          let after = Number(str(a, 'after') ?? '-1');
          for (;;) {
            const store = app.deployment.ledgerStore(tenant);
            try {
              const size = store.latestCheckpoint()?.size ?? 0;
              for (const e of store.readEntries(after + 1, size)) {
                const x = JSON.parse(new TextDecoder().decode(e.bytes)) as { seq: number; time: string; kind: string; body: Record<string, unknown> };
                const b = x.body;
                const what = (b['skill'] as { id?: string } | undefined)?.id ?? b['action'] ?? b['status'] ?? b['reason'] ?? '';
                out(`${String(x.seq).padStart(6)}  ${x.time}  ${x.kind.padEnd(10)} ${String((b['principal'] as { id?: string } | undefined)?.id ?? b['principal'] ?? b['actor'] ?? '').padEnd(24)} ${String(what)}`);
                after = x.seq;
              }
            } finally { store.close(); }
            if (!flag(a, 'follow')) return 0;
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
        default:
          throw new SiosError('ERR_INPUT', `unknown 'sios act' action '${sub ?? ''}': use principal, update, token, tokens, revoke-token, run, task, approvals, reject or events`);
      }
    } finally {
      await app.close();
    }
  },
};
