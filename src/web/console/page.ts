/**
 * The console's HTML shell. The build (build.ts) inlines the stylesheet and the bundled script; a
 * meta Content-Security-Policy admits exactly those two (by SHA-256) and same-origin fetches, on
 * top of the header policy `sios serve` sends, so the page cannot load or send anything elsewhere.
 */
import { pageHead, type PageParts } from '../inline.ts';
export type ConsoleParts = PageParts;

export function consolePageHtml(p: ConsoleParts): string {
  return `${pageHead(p, { title: 'SIOS console', connect: "'self'" })}
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <div class="top-inner">
    <p class="brand"><span class="mark" aria-hidden="true"></span>SIOS <span class="brand-sub">Console</span></p>
    <p class="health" id="health" aria-live="polite">Checking the server…</p>
    <div class="who" id="who"></div>
  </div>
  <nav class="nav" id="nav" aria-label="Console sections" hidden></nav>
</header>
<main id="main" tabindex="-1"></main>
<div id="announce" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
<noscript><p class="noscript">The SIOS console needs JavaScript (it runs only the script inlined in this page).</p></noscript>
<script>${p.script}</script>
</body>
</html>
`;
}
