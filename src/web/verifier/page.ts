/**
 * The verifier page's HTML shell. The build (scripts/build-web.ts) fills in the inlined stylesheet
 * and script; the Content-Security-Policy admits exactly those two (by hash) and Blob-URL workers,
 * and forbids every fetch, so even a bug cannot make the page reach the network.
 */
import { pageHead, type PageParts } from '../inline.ts';
export type { PageParts };

export function verifierPageHtml(p: PageParts): string {
  return `${pageHead(p, { title: 'SIOS · Offline ledger verifier', connect: "'none'", blobWorkers: true })}
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <div class="top-inner">
    <p class="brand"><span class="mark" aria-hidden="true"></span>SIOS <span class="brand-sub">Offline ledger verifier</span></p>
    <p class="offline-note">Works without a network. Files you add stay on this computer.</p>
  </div>
</header>
<main id="main">
  <h1 class="visually-hidden">Verify a SIOS tenant ledger bundle</h1>
  <p class="intro">Check that a tenant's exported ledger is complete and unaltered, using only the operator's public key. The same verification code as <code>sios verify</code> runs here, in your browser.</p>
  <div class="inputs">
    <section class="card" id="bundle-card" aria-labelledby="bundle-h">
      <h2 id="bundle-h"><span class="step" aria-hidden="true">1</span>Ledger bundle</h2>
      <label class="drop" id="bundle-drop" for="bundle-file">
        <input type="file" id="bundle-file" class="visually-hidden">
        <span class="drop-main">Drop the exported bundle here</span>
        <span class="drop-sub">or press to choose the file written by <code>sios ledger export</code></span>
      </label>
      <p id="bundle-info" class="file-info" aria-live="polite"></p>
    </section>
    <section class="card" id="key-card" aria-labelledby="key-h">
      <h2 id="key-h"><span class="step" aria-hidden="true">2</span>Operator public key</h2>
      <label for="key-text" class="field-label">Paste the key (PEM), or drop the <code>operator.pub</code> file here</label>
      <textarea id="key-text" rows="4" spellcheck="false" autocomplete="off" autocapitalize="off" aria-describedby="key-fp" placeholder="-----BEGIN PUBLIC KEY-----&#10;MIIHsjALBglghkgBZQMEAxIDggehAD…&#10;-----END PUBLIC KEY-----"></textarea>
      <div class="key-actions">
        <input type="file" id="key-file" class="visually-hidden" accept=".pub,.pem,.txt,text/plain">
        <label for="key-file" class="button secondary small">Choose key file…</label>
      </div>
      <div id="key-fp" class="key-fp" aria-live="polite"></div>
    </section>
  </div>
  <div class="actions">
    <button type="button" id="verify" class="primary">Verify bundle</button>
    <details class="options">
      <summary>Options</summary>
      <label class="check"><input type="checkbox" id="use-bundled"> Verify signatures with the bundled ML-DSA-65 code (@noble/post-quantum) instead of this browser's</label>
    </details>
  </div>
  <section id="progress-section" class="progress" hidden aria-live="polite">
    <label for="progress" id="progress-label">Verifying…</label>
    <progress id="progress" max="1" value="0"></progress>
  </section>
  <section id="verdict" class="verdict" tabindex="-1" hidden aria-live="polite"></section>
  <section id="summary" class="card summary" hidden></section>
  <section id="timeline-section" class="card timeline-card" hidden aria-labelledby="tl-h">
    <h2 id="tl-h">Timeline</h2>
    <p id="tl-note" class="tl-note" hidden></p>
    <div class="tl-controls">
      <div class="field">
        <label for="search">Search</label>
        <input type="search" id="search" autocomplete="off" spellcheck="false" placeholder="who, brain, skill, status, date or #seq" aria-describedby="tl-count">
      </div>
      <div class="field">
        <label for="filter">Show</label>
        <select id="filter">
          <option value="all">All entries</option>
          <option value="intent">Intents</option>
          <option value="outcome">Outcomes</option>
          <option value="in-doubt">Intents without outcome</option>
          <option value="not-ok">Denied or failed</option>
          <option value="approvals">With approvals</option>
          <option value="disclosed">With disclosed payloads</option>
          <option value="other">Other kinds</option>
        </select>
      </div>
      <p id="tl-count" class="tl-count" aria-live="polite"></p>
    </div>
    <div class="table-wrap">
      <table class="timeline">
        <caption class="visually-hidden">Ledger entries in order; open an entry for its full content</caption>
        <thead><tr>
          <th scope="col" class="num">#</th><th scope="col">Time (UTC)</th><th scope="col">Kind</th><th scope="col">Who</th>
          <th scope="col">Brain</th><th scope="col">Skill / action</th><th scope="col">Decision</th><th scope="col">Approvals</th><th scope="col">Outcome</th>
        </tr></thead>
        <tbody id="tl-body"></tbody>
      </table>
    </div>
    <nav class="pager" aria-label="Timeline pages">
      <button type="button" id="pg-first" class="secondary small">« First</button>
      <button type="button" id="pg-prev" class="secondary small">‹ Previous</button>
      <span id="pg-info" class="pg-info"></span>
      <button type="button" id="pg-next" class="secondary small">Next ›</button>
      <button type="button" id="pg-last" class="secondary small">Last »</button>
    </nav>
  </section>
  <dialog id="entry-dialog" aria-labelledby="entry-title">
    <div class="dialog-head"><h3 id="entry-title">Entry</h3><button type="button" id="entry-close" class="secondary small">Close</button></div>
    <div id="entry-body" class="dialog-body"></div>
  </dialog>
</main>
<footer class="foot">SIOS ${escapeHtml(p.version)} · ML-DSA-65 signatures (FIPS 204) · RFC 9162 Merkle log · C2SP signed checkpoints</footer>
<script>${p.script}</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
