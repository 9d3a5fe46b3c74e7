/**
 * The offline verifier page's main-thread code: inputs (bundle, operator key), the verdict, the
 * summary and the timeline. All verification runs in the Web Worker (worker.ts), inlined into the
 * page by the build as a Blob URL, so the page needs no server and makes no network request.
 * Everything shown from a bundle is set as text (never parsed as HTML): bundle contents are hostile.
 */
import type { VerifyReport } from '../../ledger/verify.ts';
import type { Filter, Row } from './timeline.ts';
import type { DisclosureView, FromWorker, KeyInfo, ToWorker } from './protocol.ts';
import type { AttestationRange } from './attestation.ts';
import { reasonLabel } from './labels.ts';

/** The worker's bundled source, substituted by scripts/build-web.ts (esbuild `define`). */
declare const __SIOS_VERIFIER_WORKER__: string;

const PAGE_SIZE = 100;
const MAX_CHECKPOINT_ROWS = 500;
const nf = new Intl.NumberFormat('en-US');
const fmt = (n: number): string => nf.format(n);

// ---- tiny DOM helpers (text only) ----
type Child = Node | string | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}
function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`verifier page is missing #${id}`);
  return el as T;
}

const ui = {
  bundleFile: $<HTMLInputElement>('bundle-file'),
  bundleDrop: $('bundle-drop'),
  bundleInfo: $('bundle-info'),
  keyCard: $('key-card'),
  keyText: $<HTMLTextAreaElement>('key-text'),
  keyFile: $<HTMLInputElement>('key-file'),
  keyFp: $('key-fp'),
  verify: $<HTMLButtonElement>('verify'),
  useBundled: $<HTMLInputElement>('use-bundled'),
  progressSection: $('progress-section'),
  progress: $<HTMLProgressElement>('progress'),
  progressLabel: $('progress-label'),
  verdict: $('verdict'),
  summary: $('summary'),
  timelineSection: $('timeline-section'),
  search: $<HTMLInputElement>('search'),
  filter: $<HTMLSelectElement>('filter'),
  tlNote: $('tl-note'),
  tlCount: $('tl-count'),
  tlBody: $('tl-body'),
  pgFirst: $<HTMLButtonElement>('pg-first'),
  pgPrev: $<HTMLButtonElement>('pg-prev'),
  pgNext: $<HTMLButtonElement>('pg-next'),
  pgLast: $<HTMLButtonElement>('pg-last'),
  pgInfo: $('pg-info'),
  dialog: $<HTMLDialogElement>('entry-dialog'),
  dialogTitle: $('entry-title'),
  dialogBody: $('entry-body'),
  dialogClose: $<HTMLButtonElement>('entry-close'),
};

// ---- state ----
let worker: Worker | undefined;
let workerUrl: string | undefined;
let bundle: File | undefined;
let keys: KeyInfo[] = [];
let keyError = '';
let keyReq = 0;
let queryReq = 0;
let entryReq = 0;
let verifying = false;
let result: Extract<FromWorker, { type: 'done' }> | undefined;
let page = { offset: 0, total: 0 };
let badSeq: number | undefined;

function startWorker(): Worker {
  stopWorker();
  workerUrl = URL.createObjectURL(new Blob([__SIOS_VERIFIER_WORKER__], { type: 'text/javascript' }));
  const w = new Worker(workerUrl, { name: 'sios-verifier' });
  w.onmessage = (ev: MessageEvent<FromWorker>) => onWorker(ev.data);
  w.onerror = (ev) => { ev.preventDefault(); showFatal(ev.message || 'the verification worker failed to start'); };
  worker = w;
  return w;
}
function stopWorker(): void {
  worker?.terminate();
  worker = undefined;
  if (workerUrl) URL.revokeObjectURL(workerUrl);
  workerUrl = undefined;
}
function send(m: ToWorker): void {
  (worker ?? startWorker()).postMessage(m);
}

// ---- inputs ----
function setBundle(f: File): void {
  bundle = f;
  ui.bundleInfo.replaceChildren(h('span', { class: 'file-name' }, f.name), ` · ${fmtBytes(f.size)}`);
  ui.bundleDrop.classList.add('has-file');
  invalidate();
  void previewHeader(f);
}

/** What the file says about itself (first line), shown before verification and labelled as a claim. */
async function previewHeader(f: File): Promise<void> {
  let claim = 'This does not look like a SIOS ledger bundle; verifying will say why.';
  try {
    const head = await f.slice(0, 64 * 1024).text();
    const nl = head.indexOf('\n');
    const h0 = JSON.parse(nl < 0 ? head : head.slice(0, nl)) as Record<string, unknown>;
    if (h0['format'] === 'sios-ledger-bundle' && typeof h0['tenant'] === 'string' && typeof h0['entries'] === 'number') {
      const exported = typeof h0['exported'] === 'string' ? `, exported ${fmtTime(h0['exported'])}` : '';
      claim = `The file says: tenant ${h0['tenant'].slice(0, 64)}, ${fmt(h0['entries'])} entries${exported}. Not yet verified.`;
    }
  } catch { /* not JSON: the claim above stands */ }
  if (bundle === f) ui.bundleInfo.append(h('span', { class: 'claim' }, claim));
}

async function setKeyFile(f: File): Promise<void> {
  if (f.size > 64 * 1024) { keyError = `${f.name} is ${fmtBytes(f.size)}: too large to be a public key file`; renderKeys(); return; }
  ui.keyText.value = (await f.text()).trim() + '\n';
  onKeyText();
}

let keyTimer: ReturnType<typeof setTimeout> | undefined;
function onKeyText(): void {
  invalidate();
  clearTimeout(keyTimer);
  keyTimer = setTimeout(() => {
    const text = ui.keyText.value;
    if (!text.trim()) { keys = []; keyError = ''; renderKeys(); return; }
    send({ type: 'keys', id: ++keyReq, text });
  }, 120);
}

function renderKeys(): void {
  const box = ui.keyFp;
  ui.keyText.setAttribute('aria-invalid', keyError ? 'true' : 'false');
  if (keyError) {
    box.replaceChildren(h('p', { class: 'key-error', role: 'alert' }, keyError));
  } else if (keys.length) {
    box.replaceChildren(
      h('p', { class: 'fp-label' }, keys.length === 1 ? 'Fingerprint — compare it with the one the operator gave you:' : `${keys.length} keys — compare each fingerprint with the operator's:`),
      ...keys.map((k) => h('p', { class: 'fingerprint', 'data-fingerprint': k.fingerprint }, k.human)),
    );
  } else {
    box.replaceChildren();
  }
  updateVerifyButton();
}

function updateVerifyButton(): void {
  ui.verify.disabled = verifying || !bundle || keys.length === 0 || keyError !== '';
  const missing = !bundle && keys.length === 0 ? 'Add a bundle and a key' : !bundle ? 'Add a bundle' : keys.length === 0 ? 'Add the operator key' : '';
  ui.verify.title = missing;
}

/** Inputs changed: a shown result no longer describes them. */
function invalidate(): void {
  if (verifying) { stopWorker(); verifying = false; ui.progressSection.hidden = true; }
  if (result) {
    result = undefined;
    ui.verdict.hidden = true; ui.summary.hidden = true; ui.timelineSection.hidden = true;
    document.body.classList.remove('has-result');
  }
  updateVerifyButton();
}

function isKeyLike(f: File, head: string): boolean {
  return /\.(pub|pem)$/i.test(f.name) || (f.size < 16 * 1024 && head.trimStart().startsWith('-----BEGIN'));
}

async function onDroppedFiles(files: FileList | File[], target: 'bundle' | 'key' | 'any'): Promise<void> {
  for (const f of Array.from(files)) {
    if (target === 'bundle') { setBundle(f); continue; }
    if (target === 'key') { await setKeyFile(f); continue; }
    const head = await f.slice(0, 64).text();
    if (isKeyLike(f, head)) await setKeyFile(f); else setBundle(f);
  }
}

function wireDrop(el: HTMLElement, target: 'bundle' | 'key'): void {
  el.addEventListener('dragenter', (e) => { e.preventDefault(); el.classList.add('dragging'); });
  el.addEventListener('dragover', (e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; });
  el.addEventListener('dragleave', () => el.classList.remove('dragging'));
  el.addEventListener('drop', (e) => {
    e.preventDefault(); e.stopPropagation();
    el.classList.remove('dragging');
    if (e.dataTransfer?.files.length) void onDroppedFiles(e.dataTransfer.files, target);
  });
}

// ---- verification ----
function startVerify(): void {
  if (!bundle || keys.length === 0 || keyError) return;
  invalidate();
  verifying = true;
  updateVerifyButton();
  ui.progressSection.hidden = false;
  setProgress('Reading the bundle…', 0, 1);
  // The worker started with the page is reused (it is already parsed and warm); a cancelled run's is replaced.
  const w = worker ?? startWorker();
  w.postMessage({ type: 'verify', bundle, keys: ui.keyText.value, preferNative: !ui.useBundled.checked } satisfies ToWorker);
}

function setProgress(label: string, done: number, total: number): void {
  ui.progressLabel.textContent = label;
  ui.progress.max = Math.max(1, total);
  ui.progress.value = Math.min(done, total);
}

function onWorker(m: FromWorker): void {
  switch (m.type) {
    case 'keys':
      if (m.id !== keyReq) return;
      keys = m.keys; keyError = m.error ?? '';
      renderKeys();
      return;
    case 'progress':
      if (!verifying) return;
      if (m.phase === 'reading') setProgress('Reading the bundle…', 0, 1);
      else if (m.phase === 'entries') setProgress(`Checking entries: ${fmt(m.done)} of ${fmt(m.total)}`, m.done, m.total);
      else setProgress(`Checking checkpoint signatures: ${fmt(m.done)} of ${fmt(m.total)}`, m.done, m.total);
      return;
    case 'done':
      verifying = false;
      result = m;
      ui.progressSection.hidden = true;
      updateVerifyButton();
      renderResult(m);
      return;
    case 'rows':
      if (m.id !== queryReq) return;
      renderRows(m.rows, m.total, m.offset);
      return;
    case 'entry':
      if (m.id !== entryReq) return;
      renderEntry(m.seq, m.json, m.row, m.disclosures);
      return;
    case 'fatal':
      showFatal(m.message);
      return;
  }
}

function showFatal(message: string): void {
  verifying = false;
  ui.progressSection.hidden = true;
  updateVerifyButton();
  ui.verdict.hidden = false;
  ui.verdict.className = 'verdict failed';
  ui.verdict.replaceChildren(
    h('div', { class: 'verdict-icon', 'aria-hidden': 'true' }, '!'),
    h('div', { class: 'verdict-main' },
      h('h2', { class: 'verdict-word', id: 'verdict-word' }, 'NOT VERIFIED'),
      h('p', { class: 'verdict-reason' }, 'The verifier could not run'),
      h('p', { class: 'verdict-message' }, message)),
  );
  ui.verdict.focus();
}

// ---- result ----
function renderResult(m: Extract<FromWorker, { type: 'done' }>): void {
  const r = m.report;
  document.body.classList.add('has-result');
  badSeq = r.failure?.seq;
  renderVerdict(r, m);
  renderSummary(r, m);
  ui.timelineSection.hidden = false;
  ui.tlNote.hidden = r.ok;
  ui.tlNote.textContent = r.ok ? '' : m.rows === 0
    ? 'No entry could be read from this bundle.'
    : `Shown for investigation only: nothing in this bundle is verified.${badSeq !== undefined ? ` Entry #${badSeq} is the first bad entry.` : ''}${m.rows < r.entries || (r.entries === 0 && m.rows > 0) ? ` ${fmt(m.rows)} entries were read before verification stopped.` : ''}`;
  ui.search.value = '';
  ui.filter.value = 'all';
  if (badSeq !== undefined && badSeq < m.rows) query(0, badSeq); else query(0);
  ui.verdict.focus();
}

function renderVerdict(r: VerifyReport, m: Extract<FromWorker, { type: 'done' }>): void {
  const v = ui.verdict;
  v.hidden = false;
  if (r.ok) {
    v.className = 'verdict ok';
    const last = r.checkpoints[r.checkpoints.length - 1];
    v.replaceChildren(
      h('div', { class: 'verdict-icon', 'aria-hidden': 'true' }, '✓'),
      h('div', { class: 'verdict-main' },
        h('h2', { class: 'verdict-word', id: 'verdict-word' }, 'VERIFIED'),
        h('p', { class: 'verdict-reason' },
          `All ${fmt(r.entries)} entries of tenant ${r.tenant ?? '?'} are intact, in order, and covered by ${fmt(r.checkpoints.length)} checkpoint${r.checkpoints.length === 1 ? '' : 's'} signed by ${r.keys.some((k) => !k.trustedDirectly) ? 'a key chain starting from ' : ''}the key you supplied.`),
        h('p', { class: 'verdict-message' },
          last?.time ? `Latest signed checkpoint: ${fmt(last.size)} entries at ${fmtTime(last.time)}.` : '',
          r.disclosures ? ` ${fmt(r.disclosures)} disclosed payload${r.disclosures === 1 ? '' : 's'} match${r.disclosures === 1 ? 'es' : ''} ${r.disclosures === 1 ? 'its commitment' : 'their commitments'}.` : '',
          r.inDoubt.length ? ` ${fmt(r.inDoubt.length)} intent${r.inDoubt.length === 1 ? '' : 's'} without a recorded outcome.` : '',
          ` ${attestationSentence(m.attestation)}`)),
    );
    return;
  }
  const f = r.failure ?? { reason: 'malformed', message: 'verification failed' };
  v.className = 'verdict failed';
  const main = h('div', { class: 'verdict-main' },
    h('h2', { class: 'verdict-word', id: 'verdict-word' }, 'FAILED'),
    h('p', { class: 'verdict-reason' }, reasonLabel(f.reason), ' ', h('code', { class: 'reason-code', id: 'fail-reason' }, f.reason)),
  );
  if (f.seq !== undefined) {
    const seqLine = h('p', { class: 'first-bad' }, 'First bad entry: ', h('strong', { id: 'fail-seq', 'data-seq': String(f.seq) }, `#${f.seq}`));
    if (f.seq < m.rows) {
      const b = h('button', { type: 'button', class: 'secondary small' }, 'Show it in the timeline');
      b.addEventListener('click', () => { ui.search.value = ''; ui.filter.value = 'all'; query(0, f.seq); openEntry(f.seq as number); });
      seqLine.append(' ', b);
    }
    main.append(seqLine);
  }
  main.append(h('p', { class: 'verdict-message', id: 'fail-message' }, f.message));
  if (m.badLine !== undefined) {
    main.append(h('details', { class: 'raw' }, h('summary', {}, `The bad entry as it appears in the file (line ${(f.seq ?? 0) + 2})`), h('pre', {}, m.badLine)));
  }
  v.replaceChildren(h('div', { class: 'verdict-icon', 'aria-hidden': 'true' }, '✗'), main);
}

function attestationSentence(ranges: readonly AttestationRange[]): string {
  const n = ranges.reduce((a, x) => a + x.checkpoints, 0);
  const tpm = ranges.filter((x) => x.mode === 'tpm2' && x.verified).reduce((a, x) => a + x.checkpoints, 0);
  if (n > 0 && tpm === n) return 'Every checkpoint carries TPM 2.0 evidence, verified.';
  if (tpm > 0) return `TPM 2.0 evidence verified for ${fmt(tpm)} of ${fmt(n)} checkpoints; the others are not hardware-attested.`;
  return 'Not hardware-attested: no TPM evidence vouches for the machine that signed.';
}

function dlRow(dl: HTMLElement, label: string, ...value: Child[]): void {
  dl.append(h('div', { class: 'kv' }, h('dt', {}, label), h('dd', {}, ...value)));
}

function renderSummary(r: VerifyReport, m: Extract<FromWorker, { type: 'done' }>): void {
  const dl = h('dl', { class: 'summary-grid' });
  dlRow(dl, 'Tenant', h('span', { id: 'sum-tenant' }, r.tenant ?? '—'));
  dlRow(dl, 'Origin', h('code', { id: 'sum-origin' }, r.origin ?? '—'));
  // On failure, verifyBundle stops at the first problem: say which checks were not reached.
  const entryPassDone = r.ok || r.entries > 0;
  const keyFailure = r.failure?.reason === 'bad-signature' || r.failure?.reason === 'unknown-key';
  const notReached = (): HTMLElement => h('span', { class: 'muted' }, 'not reached: verification stopped earlier');
  dlRow(dl, 'Entries', h('span', { id: 'sum-entries', 'data-value': String(r.ok ? r.entries : m.rows) }, r.ok ? fmt(r.entries) : `${fmt(m.rows)} read, not verified`));
  const last = r.checkpoints[r.checkpoints.length - 1];
  dlRow(dl, 'Signed checkpoints', h('span', { id: 'sum-checkpoints', 'data-value': String(r.checkpoints.length) }, r.ok ? fmt(r.checkpoints.length) : `${fmt(r.checkpoints.length)} verified before the failure`),
    last ? h('span', { class: 'muted' }, ` · latest covers ${fmt(last.size)} entries${last.time ? `, ${fmtTime(last.time)}` : ''}`) : '');
  dlRow(dl, 'Attestation', attestationList(r, m.attestation));
  const keyList = h('ul', { class: 'keys' });
  for (const k of r.keys) {
    keyList.append(h('li', {}, h('span', { class: 'fingerprint small' }, fpHuman(k.fingerprint)),
      h('span', { class: 'muted' }, ` · checkpoints ${fmt(k.validFromSize)}–${k.validToSize === null ? 'now' : fmt(k.validToSize)} · ${k.trustedDirectly ? 'supplied by you' : 'by signed rotation'}`)));
  }
  dlRow(dl, r.keys.length === 1 ? 'Signing key' : 'Signing keys', r.keys.length ? keyList
    : keyFailure || entryPassDone ? h('span', { class: 'muted' }, 'none of the keys you supplied signed this ledger') : notReached());
  const doubt = h('span', { id: 'sum-in-doubt', 'data-value': String(r.inDoubt.length) }, fmt(r.inDoubt.length));
  const doubtCell: Child[] = [doubt];
  if (r.inDoubt.length) {
    doubtCell.push(h('span', { class: 'muted' }, ' intents without an outcome · '));
    const b = h('button', { type: 'button', class: 'link' }, 'show them');
    b.addEventListener('click', () => { ui.search.value = ''; ui.filter.value = 'in-doubt'; query(0); ui.timelineSection.scrollIntoView(); });
    doubtCell.push(b);
  }
  if (entryPassDone) dlRow(dl, 'In doubt', ...doubtCell); else dlRow(dl, 'In doubt', notReached());
  const disc: Child[] = [h('span', { id: 'sum-disclosures', 'data-value': String(r.disclosures) }, fmt(r.disclosures))];
  if (m.disclosures.length && !r.ok && r.failure?.reason !== 'bad-commitment' && r.disclosures < m.disclosures.length) {
    disc.splice(0, 1, h('span', { id: 'sum-disclosures', 'data-value': String(r.disclosures) }, `${fmt(m.disclosures.length)} disclosed, not checked`));
    disc.push(h('span', { class: 'muted' }, ': verification stopped before them'));
  } else if (m.disclosures.length) {
    disc.push(h('span', { class: 'muted' }, ` of ${fmt(m.disclosures.length)} disclosed payloads match their commitments · `));
    const b = h('button', { type: 'button', class: 'link' }, 'show them');
    b.addEventListener('click', () => { ui.search.value = ''; ui.filter.value = 'disclosed'; query(0); ui.timelineSection.scrollIntoView(); });
    disc.push(b);
  } else disc.push(h('span', { class: 'muted' }, ' (none disclosed in this bundle)'));
  dlRow(dl, 'Disclosures', ...disc);
  if (r.evidence.length) dlRow(dl, 'Hardware evidence', r.evidence.join('; '));
  if (r.rootHash) dlRow(dl, 'Tree head (root)', h('code', { class: 'hash' }, r.rootHash));
  dlRow(dl, 'Verified with', `${m.cryptoName} · ${fmtBytes(m.bytes)} in ${(m.ms / 1000).toFixed(2)} s`,
    h('span', { class: 'muted', id: 'sum-rate', 'data-ms': m.ms.toFixed(1), 'data-phases': JSON.stringify(m.phases) }, r.ok && r.entries ? ` · ${fmt(Math.round(r.entries / (m.ms / 1000)))} entries/s` : ''));

  const cps = h('details', { class: 'checkpoints' });
  cps.append(h('summary', {}, `Checkpoints (${fmt(r.checkpoints.length)})`));
  // Rows are built when first opened: a bundle can hold thousands of checkpoints.
  cps.addEventListener('toggle', () => { if (cps.open && !cps.dataset['filled']) { cps.dataset['filled'] = '1'; fillCheckpoints(cps, r); } });
  ui.summary.hidden = false;
  ui.summary.replaceChildren(h('h2', {}, 'Summary'), dl, cps);
}

/** One line per range of checkpoints attested the same way; software mode is said, never implied. */
function attestationList(r: VerifyReport, ranges: readonly AttestationRange[]): HTMLElement {
  if (!ranges.length) return h('span', { id: 'sum-attestation', class: 'muted', 'data-modes': '' }, r.ok ? '—' : 'not reached: no checkpoint verified');
  const list = h('ul', { class: 'attestation', id: 'sum-attestation', 'data-modes': ranges.map((x) => x.mode).join(',') });
  const evidenceFailed = r.failure?.reason === 'bad-evidence';
  for (const x of ranges) {
    const span = `entries ${fmt(x.firstEntry)}–${fmt(x.lastEntry)} · ${fmt(x.checkpoints)} checkpoint${x.checkpoints === 1 ? '' : 's'}: `;
    let cls: string, text: Child;
    if (x.mode === 'tpm2' && x.verified) {
      cls = 'att-ok';
      text = h('span', {}, 'tpm2: quote verified, AK bound to EK, measurement ', h('code', { class: 'hash', 'data-measurement': x.verified.measurement }, x.verified.measurement));
    } else if (x.mode === 'tpm2') {
      cls = evidenceFailed ? 'att-bad' : 'att-warn';
      text = evidenceFailed ? 'tpm2: evidence does NOT verify (bad-evidence, see above)' : 'tpm2: evidence not checked (verification stopped earlier)';
    } else if (x.mode === 'software') {
      cls = 'att-warn'; text = 'unattested software mode: no hardware root vouches for these checkpoints';
    } else {
      cls = 'att-warn'; text = 'no attestation stated';
    }
    list.append(h('li', { class: cls, 'data-mode': x.mode }, h('span', { class: 'muted' }, span), text));
  }
  return list;
}

function fillCheckpoints(cps: HTMLElement, r: VerifyReport): void {
  if (r.checkpoints.length) {
    const shown = r.checkpoints.slice(-MAX_CHECKPOINT_ROWS).reverse();
    const tbody = h('tbody');
    for (const c of shown) tbody.append(h('tr', {}, h('td', { class: 'num' }, fmt(c.size)), h('td', {}, c.time ? fmtTime(c.time) : '—'), h('td', {}, c.attestation ?? '—'), h('td', {}, h('span', { class: 'fingerprint small' }, fpShort(c.signer)))));
    cps.append(
      shown.length < r.checkpoints.length ? h('p', { class: 'muted' }, `The latest ${fmt(shown.length)} of ${fmt(r.checkpoints.length)} are listed.`) : '',
      h('div', { class: 'table-wrap' }, h('table', { class: 'plain' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'num' }, 'Covers entries'), h('th', { scope: 'col' }, 'Signed at (UTC)'), h('th', { scope: 'col' }, 'Attestation'), h('th', { scope: 'col' }, 'Signer'))),
        tbody)),
    );
  }
}

// ---- timeline ----
let currentFilter: Filter = 'all';
function query(offset: number, focus?: number): void {
  if (!result) return;
  currentFilter = ui.filter.value as Filter;
  const m: ToWorker = { type: 'query', id: ++queryReq, text: ui.search.value, filter: currentFilter, offset, limit: PAGE_SIZE };
  if (focus !== undefined) m.focus = focus;
  send(m);
}

function chip(text: string, kind: string): HTMLElement {
  return h('span', { class: `chip ${kind}` }, text);
}

function outcomeCell(r: Row): Child {
  if (r.kind === 'intent') {
    if (r.link === null) return chip('no outcome', 'warn');
    return chip(r.outcome, r.outcome === 'ok' ? 'good' : r.outcome === 'error' ? 'bad' : 'warn');
  }
  if (r.kind === 'outcome') return h('span', {}, chip(r.outcome, r.outcome === 'ok' ? 'good' : r.outcome === 'error' ? 'bad' : 'warn'), r.link !== null ? h('span', { class: 'muted' }, ` of #${r.link}`) : '');
  return '';
}

function renderRows(rows: Row[], total: number, offset: number): void {
  page = { offset, total };
  const frag = document.createDocumentFragment();
  for (const r of rows) {
    const open = h('button', { type: 'button', class: 'link seq', 'aria-label': `Entry ${r.seq}: details` }, `#${r.seq}`);
    open.addEventListener('click', () => openEntry(r.seq));
    const cls = [badSeq !== undefined && r.seq === badSeq ? 'bad-row' : '', r.kind === 'outcome' ? 'outcome-row' : ''].filter(Boolean).join(' ');
    frag.append(h('tr', cls ? { class: cls, 'data-seq': String(r.seq) } : { 'data-seq': String(r.seq) },
      h('td', { class: 'num' }, open),
      h('td', { class: 'time' }, fmtTime(r.time)),
      h('td', {}, chip(r.kind, r.kind === 'intent' ? 'kind-intent' : r.kind === 'outcome' ? 'kind-outcome' : 'kind-other')),
      h('td', { class: 'nowrap' }, r.actor),
      h('td', { class: 'nowrap' }, r.brain),
      h('td', { class: 'nowrap' }, r.skill),
      h('td', {}, r.decision),
      h('td', { class: 'approvals' }, r.approvals, r.disclosed ? h('span', { class: 'disclosed', title: `disclosed: ${r.disclosed}` }, r.approvals ? ' · ' : '', `disclosed: ${r.disclosed}`) : ''),
      h('td', { class: 'nowrap' }, outcomeCell(r)),
    ));
  }
  if (!rows.length) frag.append(h('tr', {}, h('td', { colspan: '9', class: 'empty' }, total === 0 && (ui.search.value || currentFilter !== 'all') ? 'No entry matches.' : 'No entries.')));
  ui.tlBody.replaceChildren(frag);
  const to = Math.min(offset + rows.length, total);
  ui.tlCount.textContent = `${fmt(total)} ${total === 1 ? 'entry' : 'entries'}${ui.search.value || currentFilter !== 'all' ? ' match' : ''}`;
  ui.pgInfo.textContent = total ? `${fmt(offset + 1)}–${fmt(to)} of ${fmt(total)}` : '0 of 0';
  ui.pgFirst.disabled = ui.pgPrev.disabled = offset === 0;
  ui.pgNext.disabled = ui.pgLast.disabled = to >= total;
}

function openEntry(seq: number): void {
  send({ type: 'entry', id: ++entryReq, seq });
}

function renderEntry(seq: number, json: string, row: Row | null, disclosures: DisclosureView[]): void {
  ui.dialogTitle.textContent = `Entry #${seq}${row ? ` · ${row.kind}` : ''}`;
  const body: Child[] = [];
  if (badSeq === seq) body.push(h('p', { class: 'key-error' }, `This is the first bad entry: ${result?.report.failure?.message ?? ''}`));
  if (row) {
    const dl = h('dl', { class: 'entry-facts' });
    const fact = (k: string, v: Child): void => { if (v) dl.append(h('div', { class: 'kv' }, h('dt', {}, k), h('dd', {}, v))); };
    fact('Time (UTC)', fmtTime(row.time));
    fact('Who', row.actor); fact('Brain', row.brain); fact('Skill / action', row.skill);
    fact('Decision', row.decision); fact('Approvals', row.approvals);
    if (row.kind === 'intent') fact('Outcome', row.link === null ? 'none recorded (in doubt)' : `${row.outcome} (entry #${row.link})`);
    if (row.kind === 'outcome' && row.link !== null) fact('Closes intent', `#${row.link}`);
    body.push(dl);
  }
  for (const d of disclosures) {
    const ok = d.status === 'matches';
    body.push(h('section', { class: `disclosure ${ok ? 'ok' : 'bad'}` },
      h('h4', {}, `Disclosed payload “${d.name}”: `, ok ? '✓ matches its commitment' : d.status === 'does-not-match' ? '✗ does NOT match its commitment' : 'not checked (verification stopped earlier)'),
      h('pre', {}, d.payload)));
  }
  const verified = result?.report.ok === true;
  body.push(h('h4', {}, verified ? 'Entry as signed (canonical JSON, shown indented)' : 'Entry as it appears in the bundle (NOT verified)'), h('pre', { class: 'json' }, json));
  ui.dialogBody.replaceChildren(...body.filter((c): c is Node => c instanceof Node));
  if (!ui.dialog.open) ui.dialog.showModal();
  ui.dialogClose.focus();
}

// ---- formatting ----
function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
function fmtTime(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : iso;
}
function fpHuman(fp: string): string {
  const hex = fp.replace(/^SHA256:/, '');
  return 'SHA256:' + (hex.match(/.{1,4}/g) ?? []).join(' ');
}
function fpShort(fp: string): string {
  const hex = fp.replace(/^SHA256:/, '');
  return `SHA256:${hex.slice(0, 4)} ${hex.slice(4, 8)} … ${hex.slice(-4)}`;
}

// ---- events ----
ui.bundleFile.addEventListener('change', () => { const f = ui.bundleFile.files?.[0]; if (f) setBundle(f); });
ui.keyFile.addEventListener('change', () => { const f = ui.keyFile.files?.[0]; if (f) void setKeyFile(f); });
ui.keyText.addEventListener('input', onKeyText);
wireDrop(ui.bundleDrop, 'bundle');
wireDrop(ui.keyCard, 'key');
// A file dropped anywhere else is sorted by its look (a PEM key or a bundle), never opened by the browser.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => { e.preventDefault(); if (e.dataTransfer?.files.length) void onDroppedFiles(e.dataTransfer.files, 'any'); });
ui.verify.addEventListener('click', startVerify);
ui.useBundled.addEventListener('change', invalidate);
let searchTimer: ReturnType<typeof setTimeout> | undefined;
ui.search.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => query(0), 150); });
ui.search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { clearTimeout(searchTimer); query(0); } });
ui.filter.addEventListener('change', () => query(0));
ui.pgFirst.addEventListener('click', () => query(0));
ui.pgPrev.addEventListener('click', () => query(Math.max(0, page.offset - PAGE_SIZE)));
ui.pgNext.addEventListener('click', () => query(page.offset + PAGE_SIZE));
ui.pgLast.addEventListener('click', () => query(Math.max(0, page.total - 1 - ((page.total - 1) % PAGE_SIZE))));
ui.dialogClose.addEventListener('click', () => ui.dialog.close());
ui.dialog.addEventListener('click', (e) => { if (e.target === ui.dialog) ui.dialog.close(); });
updateVerifyButton();
startWorker(); // parsed and warm before the auditor has picked the files
document.body.classList.add('ready');
