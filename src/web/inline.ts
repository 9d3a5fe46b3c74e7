/**
 * What both self-contained pages (console, offline verifier) share: the HTML head with a meta
 * Content-Security-Policy that admits exactly the one inlined script and style (by SHA-256), and
 * the checks that an inlined script or style cannot end its element early. Node-side (build time).
 */
import { createHash } from 'node:crypto';

export interface PageParts {
  css: string;
  script: string;
  /** 'sha256-…' CSP source expressions of the inline script and style. */
  scriptHash: string;
  styleHash: string;
  version: string;
}

export function cspHash(s: string): string {
  return 'sha256-' + createHash('sha256').update(s, 'utf8').digest('base64');
}

/** An inlined script must not close its element early or open an HTML comment. */
export function assertInlineSafe(s: string, tag: 'script' | 'style'): void {
  if (new RegExp(`</${tag}`, 'i').test(s)) throw new Error(`the inlined ${tag} contains "</${tag}"; it would end the element early`);
  if (tag === 'script' && /<!--/.test(s)) throw new Error('the inlined script contains "<!--", which changes how HTML parses a script element');
}

/** `<!doctype html>` through `<body>`: charset, CSP, no referrer, viewport, title, the inlined style. */
export function pageHead(p: PageParts, o: { title: string; connect: "'self'" | "'none'"; blobWorkers?: boolean }): string {
  const csp = [
    "default-src 'none'",
    `script-src '${p.scriptHash}'`,
    `style-src '${p.styleHash}'`,
    ...(o.blobWorkers ? ['worker-src blob:'] : []),
    `connect-src ${o.connect}`,
    "img-src 'none'",
    "font-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="SIOS ${p.version}">
<title>${o.title}</title>
<style>${p.css}</style>
</head>
<body>`;
}
