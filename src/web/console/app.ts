/**
 * The SIOS operator and approver console: sign-in with passkeys, tenant overview, pending
 * approvals with the approval page (what exactly the passkey will sign), and the live ledger
 * timeline with charts. Everything talks to the same origin's /v1 API with a Bearer session token;
 * the page loads nothing from anywhere else.
 *
 * Routes (hash, so the server serves one page):
 *   #/signin   #/t/{tenant}/overview   #/t/{tenant}/approvals   #/t/{tenant}/approve/{id}   #/t/{tenant}/timeline
 *   #/t/{tenant}/quarantine (tenant administrators and auditors)
 *   #/operator (operators, principals of the reserved tenant _system: deployment only, no tenant data)
 * /approve?tenant=T&id=ID (the link an approver is sent) opens #/t/T/approve/ID.
 */
import { ApiError, call, download, getToken, setToken } from './api.ts';
import { ceremonyMessage, createPasskey, getAssertion, webauthnAvailable } from './webauthn.ts';
import { Timeline, bytes, groupFingerprint, relative, type LedgerEntry, type TimelineRow } from './model.ts';
import { perHourChart, reasonsChart } from './charts.ts';
import { append, clear, dl, h, value, type Child } from './dom.ts';

interface SessionView {
  id: string;
  tenant: string;
  verifiedAt: number;
  fresh: boolean[];
  principal: { id: string; name: string; role: string; tenant: string; clearance: number };
}
interface Health { ok: boolean; deployment: string; operator: string; attestation: string }
interface Verdict { brain: string; verdict: string; reason: string; publicKey: string }
interface Approval {
  id: string; skill: string; brain: string | null; requester: string; digest: string; args: unknown;
  dryRun: { digest: string; prediction: unknown } | null; verdicts: Verdict[]; needs: { brains: number; human: boolean }; expiresAt: string;
}

interface Check { name: string; ok: boolean; detail: string }
interface OperatorOverview {
  deployment: { id: string; attestation: string; operatorKey: string };
  health: Check[];
  tenants: { id: string; status: string; created: string; keyFingerprint: string; ledger: number | null }[];
  brains: { ref: string; id: string; version: string; runtime: string; licence: string; skills: string[]; signer: string; digest: string; revoked: unknown }[];
  skills: { id: string; version: string; risk: string; clearance: number; digest: string }[];
  grants: { tenant: string; brain: string; version: string; skills: string[]; granted?: number; revoked: unknown }[];
  egress: {
    tenant: string;
    policy: { allow: { host: string; ports: number[] }[]; internalRanges: string[]; upstream?: { name: string; host: string; port: number }; budgets: { maxConcurrent: number; maxConnectionsPerWindow: number; maxBytesPerWindow: number; windowMs: number } };
    killed: { actor: string; reason: string } | null;
    optOut: { operator: string; reason: string } | null;
    seq: number | null;
  }[];
}
interface QuarantineItem {
  id: string; source: string; verdict: string; score: number; reasons: string[]; commitment: string; chars: number;
  status: 'held' | 'released'; createdAt: number; releasedBy: string | null; releasedAt: number | null; releaseReason: string | null;
  sealedSeq: number; releaseSeq: number | null;
}

type Route =
  | { view: 'signin' }
  | { view: 'operator' }
  | { view: 'overview' | 'approvals' | 'timeline' | 'quarantine'; tenant: string }
  | { view: 'approve'; tenant: string; id: string };

const TENANT_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const POLL_MS = 2000;

const state: {
  session: SessionView | null;
  health: Health | null;
  healthError: string;
  timeline: Timeline;
  timelineTenant: string;
  approvals: Approval[] | null;
  approvalsTenant: string;
  forbidden: ApiError | null;
  lastPoll: number;
  pollError: string;
  fresh: Set<number>;
} = {
  session: null, health: null, healthError: '', timeline: new Timeline(), timelineTenant: '', approvals: null, approvalsTenant: '',
  forbidden: null, lastPoll: 0, pollError: '', fresh: new Set(),
};

const $ = (id: string): HTMLElement => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page is missing #${id}`);
  return e;
};

function announce(msg: string): void {
  const live = $('announce');
  live.textContent = '';
  // A new text node on the next frame makes screen readers repeat identical messages too.
  requestAnimationFrame(() => { live.textContent = msg; });
}

function parseRoute(): Route {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 't' && parts[1] && TENANT_RE.test(parts[1])) {
    const tenant = parts[1];
    if (parts[2] === 'approve' && parts[3] && /^[A-Za-z0-9_-]{1,64}$/.test(parts[3])) return { view: 'approve', tenant, id: parts[3] };
    if (parts[2] === 'approvals' || parts[2] === 'timeline' || parts[2] === 'overview' || parts[2] === 'quarantine') return { view: parts[2], tenant };
    return { view: 'overview', tenant };
  }
  if (parts[0] === 'signin') return { view: 'signin' };
  if (parts[0] === 'operator') return { view: 'operator' };
  if (!state.session) return { view: 'signin' };
  return isOperator() ? { view: 'operator' } : { view: 'overview', tenant: state.session.tenant };
}

/** Operators are principals of the reserved tenant _system: they see the deployment, never a tenant's data. */
function isOperator(): boolean {
  return state.session?.principal.role === 'operator';
}

/** Where a signed-in person starts. */
function home(): string {
  return isOperator() ? '#/operator' : `#/t/${state.session?.tenant ?? ''}/overview`;
}

/** Tenant administrators and auditors review quarantined content; members do not. */
function reviewsQuarantine(): boolean {
  const r = state.session?.principal.role;
  return r === 'tenant-admin' || r === 'auditor';
}

function go(hash: string): void {
  if (location.hash === hash) void render(true); else location.hash = hash;
}

function tenantOf(r: Route): string | null {
  return r.view === 'signin' || r.view === 'operator' ? null : r.tenant;
}

// ————————————————————————————————————————————— header and navigation

function renderHeader(route: Route): void {
  const health = $('health');
  clear(health);
  if (state.health) {
    health.append(h('span', { class: 'dot ok', 'aria-hidden': 'true' }), `Deployment ${state.health.deployment} · serving`);
    health.title = `operator key ${state.health.operator}`;
  } else if (state.healthError) {
    health.append(h('span', { class: 'dot bad', 'aria-hidden': 'true' }), state.healthError);
  } else health.append('Checking the server…');

  const who = $('who');
  clear(who);
  const s = state.session;
  if (s) {
    who.append(
      h('span', { class: 'who-name' }, s.principal.name),
      h('span', { class: 'who-meta' }, `${s.principal.role} · ${s.tenant} · clearance ${s.principal.clearance}`),
      h('button', { type: 'button', class: 'btn ghost small', onclick: () => void signOut() }, 'Sign out'),
    );
  }
  const nav = $('nav');
  clear(nav);
  const t = tenantOf(route);
  if (s && route.view === 'operator' && isOperator()) {
    nav.append(h('span', { class: 'nav-tenant' }, 'Deployment ', h('strong', {}, state.health?.deployment ?? '')),
      h('a', { href: '#/operator', class: 'tab', 'aria-current': 'page' }, 'Operator overview'));
    nav.hidden = false;
    return;
  }
  if (s && t) {
    const tabs: [string, string, Child][] = [
      ['overview', 'Overview', null],
      ['approvals', 'Approvals', state.approvals && state.approvalsTenant === t && state.approvals.length ? h('span', { class: 'badge', 'aria-label': `${state.approvals.length} pending` }, String(state.approvals.length)) : null],
      ['timeline', 'Ledger timeline', null],
    ];
    if (reviewsQuarantine()) tabs.push(['quarantine', 'Quarantine', null]);
    const current = route.view === 'approve' ? 'approvals' : route.view;
    nav.append(h('span', { class: 'nav-tenant' }, 'Tenant ', h('strong', {}, t)));
    for (const [v, label, extra] of tabs) {
      nav.append(h('a', { href: `#/t/${t}/${v}`, class: 'tab', ...(current === v ? { 'aria-current': 'page' } : {}) }, label, extra));
    }
  }
  nav.hidden = !(s && t);
}

// ————————————————————————————————————————————— session

async function loadSession(): Promise<void> {
  if (!getToken()) { state.session = null; return; }
  try {
    state.session = (await call<{ session: SessionView }>('GET', '/v1/auth/session')).session;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { setToken(null); state.session = null; return; }
    throw e;
  }
}

async function loadHealth(): Promise<void> {
  try {
    state.health = await call<Health>('GET', '/v1/health');
    state.healthError = '';
  } catch (e) {
    state.health = null;
    state.healthError = e instanceof ApiError ? e.message : 'The server is not answering';
  }
}

async function signOut(): Promise<void> {
  try { await call('POST', '/v1/auth/logout', {}); } catch { /* the session may already be over; sign out locally regardless */ }
  setToken(null);
  state.session = null;
  resetTenantData('');
  announce('Signed out.');
  go('#/signin');
}

function resetTenantData(tenant: string): void {
  state.timeline = new Timeline();
  if (state.session) state.timeline.names.set(state.session.principal.id, state.session.principal.name);
  state.timelineTenant = tenant;
  state.approvals = null;
  state.approvalsTenant = tenant;
  state.forbidden = null;
  state.fresh = new Set();
}

/** Handles errors common to every view: an ended session sends the person back to sign-in. */
function sessionEnded(e: unknown): boolean {
  if (e instanceof ApiError && e.status === 401 && e.reason !== 'step-up-required') {
    setToken(null);
    state.session = null;
    sessionStorage.setItem('sios.console.notice', `Your session ended (${e.reason || e.code}). Sign in again with your passkey.`);
    go('#/signin');
    return true;
  }
  return false;
}

// ————————————————————————————————————————————— views

function status(kind: 'info' | 'ok' | 'bad' | 'warn', ...msg: Child[]): HTMLElement {
  return h('div', { class: `status ${kind}`, role: kind === 'bad' ? 'alert' : 'status' }, ...msg);
}

function viewSignIn(main: HTMLElement): void {
  const notice = sessionStorage.getItem('sios.console.notice');
  sessionStorage.removeItem('sios.console.notice');
  const out = h('div', { id: 'signin-status', 'aria-live': 'polite' });
  if (notice) out.append(status('warn', notice));
  if (!webauthnAvailable()) out.append(status('bad', 'This browser cannot use passkeys here. Open the console at http://localhost:PORT in a current Chromium or Firefox.'));

  const signIn = async (btn: HTMLButtonElement): Promise<void> => {
    btn.disabled = true;
    clear(out);
    out.append(status('info', 'Waiting for your passkey…'));
    try {
      const { options } = await call<{ options: unknown }>('POST', '/v1/auth/login/options', {});
      const response = await getAssertion(options);
      const r = await call<{ token: string; session: SessionView }>('POST', '/v1/auth/login/verify', { response });
      setToken(r.token);
      state.session = r.session;
      resetTenantData(r.session.tenant);
      announce(`Signed in as ${r.session.principal.name}.`);
      const back = sessionStorage.getItem('sios.console.after');
      sessionStorage.removeItem('sios.console.after');
      go(back && back.startsWith('#/t/') && !isOperator() ? back : home());
    } catch (e) {
      clear(out);
      out.append(status('bad', e instanceof ApiError ? `Sign-in refused: ${e.message}` : ceremonyMessage(e)));
      btn.disabled = false;
    }
  };

  const code = h('input', { id: 'enrolment', name: 'enrolment', type: 'text', autocomplete: 'one-time-code', spellcheck: 'false', required: true, 'aria-describedby': 'enrolment-help' });
  const register = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const btn = (ev.target as HTMLFormElement).querySelector('button') as HTMLButtonElement;
    const value = code.value.trim();
    clear(out);
    if (!value) { out.append(status('bad', 'Enter the enrolment code your administrator gave you.')); code.focus(); return; }
    btn.disabled = true;
    out.append(status('info', 'Creating your passkey… follow your device’s prompt.'));
    try {
      const { options } = await call<{ options: unknown }>('POST', '/v1/auth/register/options', { enrolment: value });
      const response = await createPasskey(options);
      await call('POST', '/v1/auth/register/verify', { response });
      code.value = '';
      clear(out);
      out.append(status('ok', 'Passkey registered. Now sign in with it.'));
      announce('Passkey registered. Now sign in with it.');
      ($('signin-btn') as HTMLButtonElement).focus();
    } catch (e) {
      clear(out);
      out.append(status('bad', e instanceof ApiError ? `Registration refused: ${e.message}` : ceremonyMessage(e)));
    } finally { btn.disabled = false; }
  };

  main.append(h('div', { class: 'signin' },
    h('section', { class: 'card signin-card', 'aria-labelledby': 'signin-h' },
      h('h1', { id: 'signin-h', tabindex: '-1' }, 'Sign in to SIOS'),
      h('p', { class: 'muted' }, 'Use the passkey on this device. SIOS has no passwords: your passkey proves who you are, and every action you take is signed into your tenant’s ledger.'),
      h('button', { type: 'button', id: 'signin-btn', class: 'btn primary wide', onclick: (e: Event) => void signIn(e.currentTarget as HTMLButtonElement) }, 'Sign in with passkey'),
      out,
      h('div', { class: 'divider', role: 'separator' }, h('span', {}, 'First time here?')),
      h('form', { class: 'enrol', onsubmit: (e: Event) => void register(e), novalidate: true },
        h('label', { for: 'enrolment' }, 'Enrolment code'),
        code,
        h('p', { id: 'enrolment-help', class: 'help' }, 'A one-time code from your tenant administrator (sios tenant enrol). It lets you register one passkey.'),
        h('button', { type: 'submit', class: 'btn secondary wide' }, 'Register a passkey'),
      ),
    ),
    h('aside', { class: 'signin-aside', 'aria-label': 'About this console' },
      h('h2', {}, 'What you can do here'),
      h('ul', {},
        h('li', {}, h('strong', {}, 'Approve or reject'), ' high-impact actions: you see the action, its arguments, the dry-run prediction and the reviewing brains’ verdicts before your passkey signs the exact intent digest.'),
        h('li', {}, h('strong', {}, 'Watch the ledger'), ' of your tenant live: who did what, through which brain, and what was refused.'),
        h('li', {}, h('strong', {}, 'Nothing leaves this machine'), ': the console talks only to the local SIOS server.'),
      ),
    ),
  ));
}

function forbiddenPanel(main: HTMLElement, tenant: string, e: ApiError, what: string, why?: string): void {
  const s = state.session;
  main.append(h('section', { class: 'card forbidden', role: 'alert', 'aria-labelledby': 'forbidden-h' },
    h('h1', { id: 'forbidden-h', tabindex: '-1' }, `You cannot see ${tenant}’s ${what}`),
    h('p', {}, e.reason === 'cross-tenant' && s
      ? `Your session belongs to tenant ${s.tenant}. Tenants are walled off from each other: ${tenant}’s approvals, ledger and records are not visible from a ${s.tenant} session.`
      : why ?? 'The server refused this request for your session.'),
    h('p', { class: 'muted' }, `Server answer: ${e.status} ${e.code}${e.reason ? ` (${e.reason})` : ''}: ${e.message}`),
    s ? h('p', {}, h('a', { href: `#/t/${s.tenant}/overview`, class: 'btn secondary' }, `Back to ${s.tenant}`)) : null,
  ));
}

async function stepUp(btn: HTMLButtonElement, out: HTMLElement): Promise<void> {
  btn.disabled = true;
  clear(out);
  out.append(status('info', 'Waiting for your passkey…'));
  try {
    const { options } = await call<{ options: unknown }>('POST', '/v1/auth/step-up/options', {});
    const response = await getAssertion(options);
    state.session = (await call<{ session: SessionView }>('POST', '/v1/auth/step-up/verify', { response })).session;
    announce('Session refreshed with your passkey.');
    await render(false);
  } catch (e) {
    if (sessionEnded(e)) return;
    clear(out);
    out.append(status('bad', e instanceof ApiError ? `Step-up refused: ${e.message}` : ceremonyMessage(e)));
    btn.disabled = false;
  }
}

async function viewOverview(main: HTMLElement, tenant: string): Promise<void> {
  const s = state.session!;
  if (tenant !== s.tenant) {
    forbiddenPanel(main, tenant, new ApiError(403, 'ERR_FORBIDDEN', `this session belongs to ${s.tenant}`, 'cross-tenant'), 'overview');
    return;
  }
  try { state.session = (await call<{ session: SessionView }>('GET', '/v1/auth/session')).session; } catch (e) { if (sessionEnded(e)) return; throw e; }
  const ses = state.session!;
  const c = ses.principal.clearance;
  const stale = !ses.fresh[c];
  const stepOut = h('div', { 'aria-live': 'polite' });
  const levels = h('ul', { class: 'levels', 'aria-label': 'Session freshness by clearance level' },
    ...ses.fresh.slice(0, c + 1).map((f, i) => h('li', { class: f ? 'fresh' : 'stale' }, `Level ${i}: ${f ? 'fresh' : 'needs step-up'}`)));
  const h1 = h('h1', { tabindex: '-1' }, `${ses.principal.name} · ${tenant}`);
  main.append(h('div', { class: 'page-head' }, h1, h('p', { class: 'muted' }, 'Your identity, your session and the state of this SIOS deployment.')));

  const health = state.health;
  main.append(h('div', { class: 'grid3' },
    h('section', { class: 'card', 'aria-labelledby': 'you-h' },
      h('h2', { id: 'you-h' }, 'Who you are'),
      dl([['Name', ses.principal.name], ['Role', ses.principal.role], ['Tenant', ses.principal.tenant], ['Clearance', `${c} of 4`], ['Principal', h('code', {}, ses.principal.id)]]),
    ),
    h('section', { class: `card ${stale ? 'warn-card' : ''}`, 'aria-labelledby': 'session-h' },
      h('h2', { id: 'session-h' }, 'Session freshness'),
      h('p', { class: stale ? 'fresh-line stale' : 'fresh-line fresh', id: 'freshness' }, stale
        ? `Stale at your clearance (${c}): confirm with your passkey before acting at level ${c}.`
        : `Fresh at your clearance (${c}).`),
      dl([['Passkey verified', `${new Date(ses.verifiedAt).toLocaleString()} (${relative(ses.verifiedAt, Date.now())})`]]),
      levels,
      stale ? h('button', { type: 'button', id: 'step-up', class: 'btn primary', onclick: (e: Event) => void stepUp(e.currentTarget as HTMLButtonElement, stepOut) }, 'Step up with passkey') : null,
      stepOut,
    ),
    h('section', { class: 'card', 'aria-labelledby': 'health-h' },
      h('h2', { id: 'health-h' }, 'Deployment health'),
      health ? dl([['Status', h('span', { class: 'pill ok' }, 'serving')], ['Deployment', health.deployment], ['Attestation', health.attestation], ['Operator key', h('code', { class: 'fp' }, health.operator)]])
        : status('bad', state.healthError || 'Health unknown'),
    ),
  ));

  const counts = h('section', { class: 'card', 'aria-labelledby': 'glance-h' }, h('h2', { id: 'glance-h' }, 'At a glance'));
  main.append(counts);
  try {
    await Promise.all([refreshApprovals(tenant), pollTimeline(tenant)]);
    const n = state.approvals?.length ?? 0;
    const refusals = state.timeline.refusalsByReason().reduce((a, r) => a + r.count, 0);
    counts.append(h('div', { class: 'stats' },
      h('a', { class: 'stat', href: `#/t/${tenant}/approvals` }, h('span', { class: 'stat-n' }, String(n)), h('span', {}, n === 1 ? 'approval waiting' : 'approvals waiting')),
      h('a', { class: 'stat', href: `#/t/${tenant}/timeline` }, h('span', { class: 'stat-n' }, String(state.timeline.size)), h('span', {}, 'ledger entries')),
      h('a', { class: 'stat', href: `#/t/${tenant}/timeline` }, h('span', { class: 'stat-n bad' }, String(refusals)), h('span', {}, 'refusals')),
    ));
    if (reviewsQuarantine()) {
      const q = (await call<{ items: QuarantineItem[] }>('GET', `/v1/tenants/${tenant}/quarantine`)).items.filter((x) => x.status === 'held').length;
      counts.querySelector('.stats')?.append(h('a', { class: 'stat', href: `#/t/${tenant}/quarantine` }, h('span', { class: `stat-n${q ? ' bad' : ''}` }, String(q)), h('span', {}, 'held in quarantine')));
    }
  } catch (e) {
    if (sessionEnded(e)) return;
    counts.append(status('bad', e instanceof Error ? e.message : String(e)));
  }
}

async function refreshApprovals(tenant: string): Promise<Approval[]> {
  const r = await call<{ approvals: Approval[] }>('GET', `/v1/tenants/${tenant}/approvals`);
  if (state.approvalsTenant !== tenant) resetTenantData(tenant);
  state.approvals = r.approvals;
  state.approvalsTenant = tenant;
  return r.approvals;
}

function requesterName(id: string): string {
  if (state.session?.principal.id === id) return `${state.session.principal.name} (you)`;
  return state.timeline.names.get(id) ?? id;
}

function expiry(a: Approval): Child {
  const t = Date.parse(a.expiresAt);
  return h('time', { datetime: a.expiresAt }, `${new Date(t).toLocaleTimeString()} (${relative(t, Date.now())})`);
}

function verdictList(vs: readonly Verdict[]): HTMLElement {
  if (!vs.length) return h('p', { class: 'muted' }, 'No brain review was required.');
  return h('ul', { class: 'verdicts' }, ...vs.map((v) => h('li', { class: `verdict ${v.verdict === 'approve' ? 'ok' : 'bad'}` },
    h('span', { class: `pill ${v.verdict === 'approve' ? 'ok' : 'bad'}` }, v.verdict === 'approve' ? 'approves' : v.verdict),
    h('span', { class: 'v-brain' }, v.brain),
    h('span', { class: 'v-reason' }, `“${v.reason}”`),
    h('span', { class: 'v-key muted' }, `signed by ${v.publicKey.slice(0, 24)}…`),
  )));
}

function approvalFacts(a: Approval, tenant: string): HTMLElement {
  return h('div', { class: 'facts' },
    h('section', { 'aria-label': 'The action' },
      h('h3', {}, 'Action'),
      dl([['Skill', h('strong', {}, a.skill)], ['Brain', a.brain ?? 'none (a person acting directly)'], ['Requested by', requesterName(a.requester)], ['Tenant', tenant], ['Needs', `${a.needs.brains} approving brain${a.needs.brains === 1 ? '' : 's'}${a.needs.human ? ' and a person’s passkey' : ''}`], ['Expires', expiry(a)]]),
    ),
    h('section', { 'aria-label': 'Arguments' }, h('h3', {}, 'Arguments'), value(a.args)),
    h('section', { 'aria-label': 'Dry-run prediction' }, h('h3', {}, 'Dry-run prediction'),
      a.dryRun ? value(a.dryRun.prediction) : h('p', { class: 'muted' }, 'This skill has no dry run.')),
    h('section', { 'aria-label': 'Approving brains' }, h('h3', {}, 'Approving brains'), verdictList(a.verdicts)),
  );
}

async function viewApprovals(main: HTMLElement, tenant: string): Promise<void> {
  main.append(h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Pending approvals'),
    h('p', { class: 'muted' }, 'High-impact actions wait here until a person with enough clearance approves them with a passkey. The person who asked cannot approve their own request.')));
  const list = h('div', { class: 'approvals', id: 'approvals' });
  main.append(list);
  let items: Approval[];
  try {
    await pollTimeline(tenant).catch(() => undefined); // names for requesters; the approvals call reports errors
    items = await refreshApprovals(tenant);
  } catch (e) {
    if (sessionEnded(e)) return;
    if (e instanceof ApiError && e.status === 403) { clear(main); forbiddenPanel(main, tenant, e, 'approvals'); return; }
    list.append(status('bad', e instanceof Error ? e.message : String(e)));
    return;
  }
  renderHeader(parseRoute());
  if (!items.length) { list.append(h('div', { class: 'card empty-state' }, h('p', {}, 'Nothing is waiting for approval in this tenant.'))); return; }
  for (const a of items) {
    list.append(h('article', { class: 'card approval', 'aria-labelledby': `a-${a.id}` },
      h('header', { class: 'approval-head' },
        h('h2', { id: `a-${a.id}` }, h('span', { class: 'pill warn' }, 'high impact'), ` ${a.skill}`, h('span', { class: 'muted' }, ` requested by ${requesterName(a.requester)}`)),
        h('a', { class: 'btn primary', href: `#/t/${tenant}/approve/${a.id}` }, 'Review and decide'),
      ),
      approvalFacts(a, tenant),
    ));
  }
}

async function viewApprove(main: HTMLElement, tenant: string, id: string): Promise<void> {
  let a: Approval | undefined;
  try {
    await pollTimeline(tenant).catch(() => undefined);
    a = (await refreshApprovals(tenant)).find((x) => x.id === id);
  } catch (e) {
    if (sessionEnded(e)) return;
    if (e instanceof ApiError && e.status === 403) { forbiddenPanel(main, tenant, e, 'approvals'); return; }
    main.append(status('bad', e instanceof Error ? e.message : String(e)));
    return;
  }
  main.append(h('p', { class: 'crumbs' }, h('a', { href: `#/t/${tenant}/approvals` }, '← All pending approvals')));
  if (!a) {
    main.append(h('section', { class: 'card' }, h('h1', { tabindex: '-1' }, 'This approval is no longer pending'),
      h('p', {}, 'It was approved, rejected or has expired. The ledger timeline shows what happened.'),
      h('a', { class: 'btn secondary', href: `#/t/${tenant}/timeline` }, 'Open the timeline')));
    return;
  }
  const ap = a;
  const result = h('div', { id: 'decision', 'aria-live': 'polite' });
  const approveBtn = h('button', { type: 'button', id: 'approve-btn', class: 'btn primary big' }, 'Approve with passkey');
  const reason = h('textarea', { id: 'reject-reason', rows: 2, maxlength: 500, required: true, 'aria-describedby': 'reject-help' });
  const rejectBtn = h('button', { type: 'submit', id: 'reject-btn', class: 'btn danger' }, 'Reject');
  const done = (): void => { approveBtn.disabled = true; rejectBtn.disabled = true; reason.disabled = true; };

  approveBtn.addEventListener('click', () => void (async () => {
    approveBtn.disabled = true;
    clear(result);
    result.append(status('info', 'Waiting for your passkey to sign the intent digest…'));
    try {
      const o = await call<{ options: unknown; digest: string }>('POST', `/v1/tenants/${tenant}/approvals/${ap.id}/options`, {});
      if (o.digest !== ap.digest) throw new Error('The server offered a different digest from the one shown; nothing was signed. Reload the page.');
      const response = await getAssertion(o.options);
      result.firstChild?.replaceWith(status('info', 'Passkey signed. Running the action…'));
      const r = await call<{ status: string; intent: number; outcome: number; result: unknown }>('POST', `/v1/tenants/${tenant}/approvals/${ap.id}/approve`, { response });
      done();
      clear(result);
      result.append(status('ok', h('strong', {}, 'Approved and done. '), `The intent was sealed in the ledger as #${r.intent} before the action ran; its outcome is #${r.outcome}.`),
        h('h3', {}, 'Result'), h('div', { class: 'result' }, value(r.result)),
        h('p', {}, h('a', { href: `#/t/${tenant}/timeline`, class: 'btn secondary', id: 'to-timeline' }, 'See it in the ledger timeline')));
      announce(`Approved. Intent ${r.intent}, outcome ${r.outcome}.`);
      state.approvals = (state.approvals ?? []).filter((x) => x.id !== ap.id);
      renderHeader(parseRoute());
    } catch (e) {
      if (sessionEnded(e)) return;
      clear(result);
      result.append(status('bad', h('strong', {}, 'Not approved. '), e instanceof ApiError ? e.message : ceremonyMessage(e)));
      approveBtn.disabled = false;
    }
  })());

  const rejectForm = h('form', { class: 'reject', novalidate: true, onsubmit: (ev: Event) => void (async () => {
    ev.preventDefault();
    const why = reason.value.trim();
    clear(result);
    if (!why) { result.append(status('bad', 'Say why you reject this action; the reason is sealed in the ledger.')); reason.focus(); return; }
    rejectBtn.disabled = true;
    try {
      await call('POST', `/v1/tenants/${tenant}/approvals/${ap.id}/reject`, { reason: why });
      done();
      result.append(status('ok', h('strong', {}, 'Rejected. '), 'Nothing ran. Your reason is sealed in the ledger as a refusal.'),
        h('p', {}, h('a', { href: `#/t/${tenant}/timeline`, class: 'btn secondary', id: 'to-timeline' }, 'See it in the ledger timeline')));
      announce('Rejected.');
      state.approvals = (state.approvals ?? []).filter((x) => x.id !== ap.id);
      renderHeader(parseRoute());
    } catch (e) {
      if (sessionEnded(e)) return;
      result.append(status('bad', e instanceof ApiError ? e.message : String(e)));
      rejectBtn.disabled = false;
    }
  })() },
    h('label', { for: 'reject-reason' }, 'Reason for rejecting'),
    reason,
    h('p', { id: 'reject-help', class: 'help' }, 'Sealed in the ledger with your name.'),
    rejectBtn,
  );

  main.append(h('article', { class: 'card approval approve-page', 'aria-labelledby': 'approve-h' },
    h('h1', { id: 'approve-h', tabindex: '-1' }, 'Approve ', h('span', { class: 'mono' }, ap.skill), '?'),
    h('p', { class: 'lede' }, `${requesterName(ap.requester)} asked ${ap.brain ?? 'SIOS'} to run ${ap.skill} in ${tenant}. Check what it will do. If you approve, your passkey signs the intent digest below, and the action runs exactly as shown: nothing else can be substituted.`),
    approvalFacts(ap, tenant),
    h('section', { class: 'digest', 'aria-label': 'Intent digest' },
      h('h3', {}, 'Your passkey will sign this intent digest'),
      h('code', { id: 'digest', class: 'fp' }, ap.digest),
      h('p', { class: 'help' }, 'SHA-256 over the canonical intent (who, brain, skill, argument commitment, policy decision, dry run). Auditors recompute it from the sealed ledger entry.'),
    ),
    h('div', { class: 'decide' },
      h('div', { class: 'decide-approve' }, approveBtn, h('p', { class: 'help' }, 'Opens your device’s passkey prompt.')),
      rejectForm,
    ),
    result,
  ));
}

function timelineTable(rows: TimelineRow[]): HTMLElement {
  const table = h('table', { class: 'timeline', id: 'timeline-table' },
    h('caption', { class: 'visually-hidden' }, 'Ledger entries, newest first'),
    h('thead', {}, h('tr', {}, ...['#', 'Time', 'Kind', 'Who', 'Brain', 'Skill', 'Decision', 'Outcome'].map((c) => h('th', { scope: 'col' }, c)))),
  );
  const body = h('tbody', {});
  for (const r of rows.slice(0, 300)) {
    const t = new Date(r.time);
    body.append(h('tr', { class: `tone-${r.tone}${state.fresh.has(r.seq) ? ' new' : ''}`, 'data-seq': r.seq, 'data-kind': r.kind },
      h('td', { class: 'mono' }, r.seq),
      h('td', { class: 'nowrap' }, h('time', { datetime: r.time, title: r.time }, Number.isFinite(t.getTime()) ? t.toLocaleTimeString([], { hourCycle: 'h23' }) : r.time)),
      h('td', {}, h('span', { class: `kind kind-${r.kind}` }, r.tone === 'refused' ? 'refused' : r.kind)),
      h('td', { class: 'nowrap' }, r.who),
      h('td', { class: 'small' }, r.brain),
      h('td', { class: 'mono small' }, r.skill),
      h('td', {}, r.decision, r.detail ? h('div', { class: 'detail' }, r.detail) : null),
      h('td', {}, r.outcome ? h('span', { class: `pill ${r.tone === 'ok' ? 'ok' : r.tone === 'refused' || r.tone === 'error' ? 'bad' : r.tone === 'pending' ? 'warn' : 'neutral'}` }, r.outcome) : ''),
    ));
  }
  table.append(body);
  return table;
}

async function pollTimeline(tenant: string): Promise<number> {
  if (state.timelineTenant !== tenant) resetTenantData(tenant);
  let added = 0;
  for (let i = 0; i < 20; i++) { // 500 entries per call; catch up in pages
    const after = state.timeline.last;
    const r = await call<{ size: number; entries: unknown[] }>('GET', `/v1/tenants/${tenant}/ledger/events?after=${after}`);
    if (state.timelineTenant !== tenant) return 0;
    const had = state.timeline.count > 0;
    const n = state.timeline.add(r.entries);
    // Rows that arrive after the first load are marked so the table can show them as new.
    if (had) for (const e of r.entries) { const q = (e as { seq?: unknown }).seq; if (typeof q === 'number' && q > after) state.fresh.add(q); }
    added += n;
    state.timeline.size = r.size;
    if (state.timeline.last + 1 >= r.size || n === 0) break;
  }
  state.lastPoll = Date.now();
  state.pollError = '';
  return added;
}

function renderTimelineBody(box: HTMLElement): void {
  clear(box);
  const tl = state.timeline;
  box.append(
    h('div', { class: 'grid2' },
      h('section', { class: 'card chart-card', 'aria-labelledby': 'c1-h' }, h('h2', { id: 'c1-h' }, 'Actions per hour'),
        h('p', { class: 'legend' }, h('span', { class: 'sw sw-actions', 'aria-hidden': 'true' }), 'actions ', h('span', { class: 'sw sw-refusals', 'aria-hidden': 'true' }), 'refusals'),
        perHourChart(tl.perHour(Date.now(), 12))),
      h('section', { class: 'card chart-card', 'aria-labelledby': 'c2-h' }, h('h2', { id: 'c2-h' }, 'Refusals by reason'), reasonsChart(tl.refusalsByReason())),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'tl-h' },
      h('div', { class: 'tl-head' },
        h('h2', { id: 'tl-h' }, `Entries (${tl.count} of ${tl.size})`),
        h('p', { class: 'live', id: 'live-status' }, state.pollError
          ? h('span', { class: 'bad' }, state.pollError)
          : h('span', {}, h('span', { class: 'dot ok pulse', 'aria-hidden': 'true' }), ` Live · updated ${new Date(state.lastPoll).toLocaleTimeString()}`)),
      ),
      tl.count ? timelineTable(tl.rows()) : h('p', { class: 'muted' }, 'The ledger is empty.'),
    ),
  );
}

/**
 * The signed ledger as a file an auditor can take away: fetched with the session token (a plain link
 * could not carry the Bearer header), handed to the browser as a Blob download, <tenant>.sios-bundle.
 */
function bundleActions(tenant: string): HTMLElement {
  const out = h('p', { class: 'bundle-status', id: 'bundle-status', role: 'status' });
  const button = h('button', { type: 'button', class: 'btn secondary', id: 'download-bundle' }, 'Download ledger bundle');
  button.addEventListener('click', () => {
    button.disabled = true;
    out.replaceChildren('Exporting the signed ledger…');
    download(`/v1/tenants/${encodeURIComponent(tenant)}/ledger/export`).then((blob) => {
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `${tenant}.sios-bundle`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      // The download has taken its copy once click() returns; the URL is released on the next task.
      setTimeout(() => URL.revokeObjectURL(url), 0);
      out.replaceChildren(`Saved ${tenant}.sios-bundle (${blob.size.toLocaleString('en-US')} bytes). Check it with the operator’s public key in the offline verifier.`);
    }, (e: unknown) => {
      if (sessionEnded(e)) return;
      out.replaceChildren(status('bad', 'The bundle could not be exported: ', e instanceof Error ? e.message : String(e)));
    }).finally(() => { button.disabled = false; });
  });
  return h('div', { class: 'bundle-actions' }, button,
    h('a', { href: '/verifier.html', id: 'verify-offline', target: '_blank', rel: 'noopener' }, 'verify it offline'), out);
}

async function viewTimeline(main: HTMLElement, tenant: string): Promise<void> {
  main.append(h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Ledger timeline'),
    h('p', { class: 'muted' }, 'Every sealed entry of this tenant’s signed ledger, newest first, updated every 2 seconds. Refusals are highlighted.'),
    bundleActions(tenant)));
  const box = h('div', { id: 'timeline-box' });
  main.append(box);
  try {
    await pollTimeline(tenant);
    state.fresh.clear();
  } catch (e) {
    if (sessionEnded(e)) return;
    if (e instanceof ApiError && e.status === 403) { clear(main); forbiddenPanel(main, tenant, e, 'ledger timeline'); return; }
    box.append(status('bad', e instanceof Error ? e.message : String(e)));
    return;
  }
  renderTimelineBody(box);
}

// ————————————————————————————————————————————— operator

function when(v: unknown): Child {
  const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) return h('span', { class: 'muted' }, '—');
  const iso = new Date(t).toISOString();
  return h('time', { datetime: iso, title: iso }, new Date(t).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }));
}

function table(id: string, caption: string, cols: string[], rows: Child[][], empty: string): HTMLElement {
  if (!rows.length) return h('p', { class: 'muted', id }, empty);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c, i) => i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))));
}

function chips(xs: readonly string[]): HTMLElement {
  return xs.length ? h('ul', { class: 'chips' }, ...xs.map((x) => h('li', {}, x))) : h('span', { class: 'muted' }, 'none');
}

function shortHash(v: string, n = 12): HTMLElement {
  const i = v.indexOf(':');
  const algo = i > 0 && i < 10 ? v.slice(0, i + 1) : '';
  return h('code', { class: 'short', title: v }, `${algo}${v.slice(algo.length, algo.length + n)}…`);
}

function attestationFacts(mode: string): Child[] {
  if (mode === 'software') return [
    h('span', { class: 'pill warn', id: 'attestation' }, 'unattested · software mode'),
    h('p', { class: 'help' }, 'No TPM: checkpoints are signed with the operator key and marked “software”. They prove the ledger was not changed after signing, not which machine signed it.'),
  ];
  if (mode === 'tpm') return [h('span', { class: 'pill ok', id: 'attestation' }, 'TPM-attested'),
    h('p', { class: 'help' }, 'Checkpoints carry TPM quotes; the offline verifier checks them.')];
  return [h('span', { class: 'pill neutral', id: 'attestation' }, mode)];
}

async function viewOperator(main: HTMLElement): Promise<void> {
  if (!isOperator()) {
    main.append(h('section', { class: 'card forbidden', role: 'alert', 'aria-labelledby': 'forbidden-h' },
      h('h1', { id: 'forbidden-h', tabindex: '-1' }, 'The operator view is for operators'),
      h('p', {}, 'Operators run the deployment and sign in with a principal of the reserved tenant _system. Your session belongs to a tenant.'),
      h('p', {}, h('a', { href: home(), class: 'btn secondary' }, 'Back to your tenant'))));
    return;
  }
  let o: OperatorOverview;
  try {
    o = await call<OperatorOverview>('GET', '/v1/operator/overview');
  } catch (e) {
    if (sessionEnded(e)) return;
    main.append(h('h1', { tabindex: '-1' }, 'Operator overview'), status('bad', e instanceof Error ? e.message : String(e)));
    return;
  }
  const failing = o.health.filter((c) => !c.ok);
  main.append(h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Operator overview'),
    h('p', { class: 'muted' }, `Deployment ${o.deployment.id}: health, tenants, brains, skills and egress. Operators run the deployment; no tenant’s records, approvals or ledger entries are shown here.`)));

  main.append(h('div', { class: 'grid-op' },
    h('section', { class: 'card', 'aria-labelledby': 'dep-h' },
      h('h2', { id: 'dep-h' }, 'Deployment'),
      dl([
        ['Deployment', h('strong', {}, o.deployment.id)],
        ['Attestation', h('div', {}, ...attestationFacts(o.deployment.attestation))],
        ['Operator key', h('div', {}, h('code', { class: 'fp grouped', id: 'operator-key', title: o.deployment.operatorKey }, groupFingerprint(o.deployment.operatorKey)),
          h('p', { class: 'help' }, 'Compare it with the key auditors use in the offline verifier.'))],
        ['Tenants', `${o.tenants.filter((t) => t.status === 'active').length} active of ${o.tenants.length}`],
      ]),
    ),
    h('section', { class: `card ${failing.length ? 'warn-card' : ''}`, 'aria-labelledby': 'checks-h' },
      h('div', { class: 'card-head' },
        h('h2', { id: 'checks-h' }, 'Health (sios doctor)'),
        h('span', { class: `pill ${failing.length ? 'bad' : 'ok'}`, id: 'checks-summary' }, failing.length ? `${failing.length} of ${o.health.length} checks fail` : `all ${o.health.length} checks pass`)),
      h('ul', { class: 'checks', id: 'health-checks' }, ...o.health.map((c) => h('li', { class: `check ${c.ok ? 'ok' : 'bad'}`, 'data-ok': String(c.ok) },
        h('span', { class: 'mark', 'aria-hidden': 'true' }, c.ok ? '✓' : '✗'),
        h('span', { class: 'check-body' },
          h('span', { class: 'check-name' }, c.name, h('span', { class: 'visually-hidden' }, c.ok ? ': ok' : ': fails'), ' ', h('span', { class: `pill ${c.ok ? 'ok' : 'bad'}`, 'aria-hidden': 'true' }, c.ok ? 'ok' : 'fail')),
          h('span', { class: 'check-detail' }, c.detail))))),
    ),
  ));

  main.append(h('section', { class: 'card', 'aria-labelledby': 'tenants-h' }, h('h2', { id: 'tenants-h' }, `Tenants (${o.tenants.length})`),
    table('tenants-table', 'Tenants', ['Tenant', 'Status', 'Created', 'Tenant key', 'Ledger entries'], o.tenants.map((t) => [
      h('strong', {}, t.id),
      h('span', { class: `pill ${t.status === 'active' ? 'ok' : t.status === 'deleted' ? 'bad' : 'warn'}` }, t.status),
      when(t.created),
      h('code', { class: 'short', title: t.keyFingerprint }, t.keyFingerprint),
      t.ledger === null ? h('span', { class: 'muted' }, 'erased') : h('span', { class: 'num' }, t.ledger.toLocaleString('en-US')),
    ]), 'No tenants yet: sios tenant create.')));

  main.append(h('section', { class: 'card', 'aria-labelledby': 'brains-h' }, h('h2', { id: 'brains-h' }, `Brains and their grants (${o.brains.length})`),
    table('brains-table', 'Brains and the tenants that granted them skills', ['Brain', 'Runtime', 'Licence', 'Signed by', 'Skills it declares', 'Granted to', 'Status'], o.brains.map((b) => {
      const gs = o.grants.filter((g) => g.brain === b.id && g.version === b.version);
      return [
        h('span', { class: 'mono strong' }, b.ref),
        b.runtime, h('span', { class: 'nowrap' }, b.licence), shortHash(b.signer),
        chips(b.skills),
        gs.length ? h('ul', { class: 'grants' }, ...gs.map((g) => h('li', { class: g.revoked ? 'revoked' : '' },
          h('strong', {}, g.tenant), g.revoked ? h('span', { class: 'pill bad' }, 'revoked') : null, chips(g.skills)))) : h('span', { class: 'muted' }, 'no tenant'),
        b.revoked ? h('span', { class: 'pill bad' }, 'revoked') : h('span', { class: 'pill ok' }, 'installed'),
      ];
    }), 'No brains installed: sios brain add.')));

  main.append(h('div', { class: 'grid2 grid-wide-left' },
    h('section', { class: 'card', 'aria-labelledby': 'skills-h' }, h('h2', { id: 'skills-h' }, `Skills (${o.skills.length})`),
      table('skills-table', 'Installed skills', ['Skill', 'Version', 'Risk', 'Clearance', 'Digest'], o.skills.map((k) => [
        h('span', { class: 'mono strong' }, k.id), k.version,
        h('span', { class: `pill ${k.risk === 'high-impact' ? 'warn' : k.risk === 'read' ? 'neutral' : 'info'}` }, k.risk),
        h('span', { class: 'num' }, String(k.clearance)), shortHash(k.digest, 8),
      ]), 'No skills installed.')),
    h('section', { class: 'card', 'aria-labelledby': 'egress-h' }, h('h2', { id: 'egress-h' }, 'Egress policies'),
      table('egress-table', 'Egress policy per tenant', ['Tenant', 'Allowed destinations', 'Budgets', 'State'], o.egress.map((e) => [
        h('strong', {}, e.tenant),
        e.policy.allow.length ? h('ul', { class: 'chips' }, ...e.policy.allow.map((a) => h('li', {}, `${a.host}:${a.ports.join(',')}`))) : h('span', {}, 'none ', h('span', { class: 'muted' }, '(default deny)')),
        h('span', { class: 'small' }, `${e.policy.budgets.maxConcurrent} at once · ${e.policy.budgets.maxConnectionsPerWindow} conn. and ${bytes(e.policy.budgets.maxBytesPerWindow)} per ${Math.round(e.policy.budgets.windowMs / 1000)} s`),
        e.killed ? h('span', { class: 'pill bad', title: e.killed.reason }, `killed by ${e.killed.actor}`)
          : e.optOut ? h('span', { class: 'pill warn', title: e.optOut.reason }, 'sandbox opt-out')
          : h('span', { class: 'pill ok' }, e.seq === null ? 'default' : `configured (#${e.seq})`),
      ]), 'No tenant has an egress policy.')),
  ));
}

// ————————————————————————————————————————————— quarantine review

function sealEntry(item: QuarantineItem, seq: number | null, action: 'quarantine' | 'release'): HTMLElement {
  if (seq === null) return h('span', { class: 'muted' }, '—');
  const e: LedgerEntry | undefined = state.timeline.entry(seq);
  const link = h('a', { href: `#/t/${state.timelineTenant}/timeline`, class: 'mono' }, `#${seq}`);
  if (!e) return h('span', { class: 'seal' }, 'ledger entry ', link, h('span', { class: 'muted' }, ' (not readable with this session)'));
  const b = e.body;
  const matches = e.kind === 'quarantine' && b['action'] === action && b['item'] === item.id && b['commitment'] === item.commitment;
  return h('span', { class: `seal ${matches ? 'ok' : 'bad'}`, 'data-seq': seq },
    'ledger entry ', link, ` · ${e.kind}/${String(b['action'] ?? '?')} · `, when(e.time), ' ',
    matches ? h('span', { class: 'pill ok' }, '✓ names this item and commitment') : h('span', { class: 'pill bad' }, '✗ does not match this item'));
}

function quarantineCard(q: QuarantineItem): HTMLElement {
  const held = q.status === 'held';
  const releaser = q.releaseSeq !== null ? state.timeline.entry(q.releaseSeq)?.body['name'] : undefined;
  return h('article', { class: `card qitem ${held ? 'held' : 'released'}`, 'aria-labelledby': `q-${q.id}`, 'data-item': q.id },
    h('header', { class: 'approval-head' },
      h('h3', { id: `q-${q.id}`, class: 'qtitle' }, h('span', { class: 'mono' }, q.source), h('span', { class: 'muted' }, ` · ${q.id}`)),
      h('span', { class: 'qpills' },
        h('span', { class: `pill ${q.verdict === 'injection' ? 'bad' : 'neutral'}` }, `${q.verdict} · score ${q.score.toFixed(2)}`),
        h('span', { class: `pill ${held ? 'warn' : 'ok'}` }, held ? 'held' : 'released')),
    ),
    dl([
      ['Why', chips(q.reasons)],
      ['Held since', when(q.createdAt)],
      ['Size', `${q.chars.toLocaleString('en-US')} characters (content not shown)`],
      ['Commitment', h('code', { class: 'hash' }, q.commitment)],
      ['Sealed by', sealEntry(q, q.sealedSeq, 'quarantine')],
      ...(held ? [] : [
        ['Released by', `${typeof releaser === 'string' && releaser ? releaser : q.releasedBy ?? '?'}`],
        ['Released', when(q.releasedAt)],
        ['Reason', q.releaseReason ?? ''],
        ['Release sealed by', sealEntry(q, q.releaseSeq, 'release')],
      ] as [string, Child][]),
    ]),
  );
}

async function viewQuarantine(main: HTMLElement, tenant: string): Promise<void> {
  let items: QuarantineItem[];
  try {
    items = (await call<{ items: QuarantineItem[] }>('GET', `/v1/tenants/${tenant}/quarantine`)).items;
  } catch (e) {
    if (sessionEnded(e)) return;
    if (e instanceof ApiError && e.status === 403) {
      const s = state.session;
      forbiddenPanel(main, tenant, e, 'quarantine', `Quarantined content is reviewed by ${tenant}’s administrators and auditors${s ? `; you are signed in as a ${s.principal.role}` : ''}. Ask a tenant administrator if something you expected to reach a brain was held.`);
      return;
    }
    main.append(h('h1', { tabindex: '-1' }, 'Quarantine review'), status('bad', e instanceof Error ? e.message : String(e)));
    return;
  }
  // The ledger entries that seal each hold and release, so the reviewer sees them side by side.
  let ledgerNote: Child = null;
  try { await pollTimeline(tenant); } catch (e) {
    if (sessionEnded(e)) return;
    ledgerNote = status('warn', `The ledger could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const held = items.filter((q) => q.status === 'held').sort((a, b) => b.createdAt - a.createdAt);
  const released = items.filter((q) => q.status !== 'held').sort((a, b) => (b.releasedAt ?? 0) - (a.releasedAt ?? 0));
  append(main, [h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Quarantine review'),
    h('p', { class: 'muted' }, 'Content that Sentinel judged to be prompt injection is held here, encrypted in this tenant’s database and kept out of every brain’s view. The content itself is never shown in the console: each item is identified by the commitment sealed in the ledger.')),
  ledgerNote,
  h('div', { class: 'stats q-stats' },
    h('div', { class: 'stat' }, h('span', { class: 'stat-n bad', id: 'held-count' }, String(held.length)), h('span', {}, 'held')),
    h('div', { class: 'stat' }, h('span', { class: 'stat-n', id: 'released-count' }, String(released.length)), h('span', {}, 'released by a person')))]);
  main.append(h('section', { 'aria-labelledby': 'held-h', id: 'held' }, h('h2', { id: 'held-h', class: 'section-h' }, `Held (${held.length})`),
    held.length ? h('div', {}, ...held.map(quarantineCard)) : h('div', { class: 'card empty-state' }, h('p', {}, 'Nothing is held in quarantine.'))));
  main.append(h('section', { 'aria-labelledby': 'released-h', id: 'released' }, h('h2', { id: 'released-h', class: 'section-h' }, `Released (${released.length})`),
    released.length ? h('div', {}, ...released.map(quarantineCard)) : h('div', { class: 'card empty-state' }, h('p', {}, 'Nothing has been released.'))));
}

// ————————————————————————————————————————————— render loop and polling

let renderSeq = 0;

async function render(focus: boolean): Promise<void> {
  const mine = ++renderSeq;
  const route = parseRoute();
  if (route.view !== 'signin' && !state.session) {
    sessionStorage.setItem('sios.console.after', location.hash);
    go('#/signin');
    return;
  }
  if (route.view === 'signin' && state.session) { go(home()); return; }
  // An operator session never opens a tenant view (and so never calls a tenant route).
  if (state.session && isOperator() && route.view !== 'operator') { go('#/operator'); return; }
  const t = tenantOf(route);
  if (t && state.timelineTenant !== t) resetTenantData(t);
  renderHeader(route);
  const main = h('div', { class: 'view', 'data-view': route.view });
  try {
    switch (route.view) {
      case 'signin': viewSignIn(main); break;
      case 'overview': await viewOverview(main, route.tenant); break;
      case 'approvals': await viewApprovals(main, route.tenant); break;
      case 'approve': await viewApprove(main, route.tenant, route.id); break;
      case 'timeline': await viewTimeline(main, route.tenant); break;
      case 'quarantine': await viewQuarantine(main, route.tenant); break;
      case 'operator': await viewOperator(main); break;
    }
  } catch (e) {
    main.append(status('bad', `Something went wrong: ${e instanceof Error ? e.message : String(e)}`));
  }
  if (mine !== renderSeq) return; // a newer navigation won
  const slot = $('main');
  clear(slot);
  slot.append(main);
  document.title = `SIOS console · ${main.querySelector('h1')?.textContent ?? ''}`;
  renderHeader(route);
  if (focus) (main.querySelector('h1') as HTMLElement | null)?.focus({ preventScroll: false });
}

async function tick(): Promise<void> {
  const route = parseRoute();
  if (!state.session || route.view !== 'timeline' || state.timelineTenant !== route.tenant) return;
  const box = document.getElementById('timeline-box');
  if (!box || box.querySelector('.status.bad')) return;
  try {
    state.fresh.clear();
    const n = await pollTimeline(route.tenant);
    if (n) announce(`${n} new ledger ${n === 1 ? 'entry' : 'entries'}.`);
  } catch (e) {
    if (sessionEnded(e)) return;
    state.pollError = `Live updates paused: ${e instanceof Error ? e.message : String(e)}`;
  }
  const again = document.getElementById('timeline-box');
  if (again && parseRoute().view === 'timeline') renderTimelineBody(again);
}

async function start(): Promise<void> {
  if (location.pathname === '/approve') {
    const q = new URLSearchParams(location.search);
    const t = q.get('tenant') ?? '', id = q.get('id') ?? '';
    if (TENANT_RE.test(t) && /^[A-Za-z0-9_-]{1,64}$/.test(id) && !location.hash) history.replaceState(null, '', `/approve#/t/${t}/approve/${id}`);
  }
  await Promise.all([loadHealth(), loadSession().catch(() => undefined)]);
  window.addEventListener('hashchange', () => void render(true));
  await render(false);
  let busy = false;
  setInterval(() => {
    if (busy) return;
    busy = true;
    void tick().finally(() => { busy = false; });
  }, POLL_MS);
  setInterval(() => void loadHealth().then(() => renderHeader(parseRoute())), 30_000);
}

void start();
