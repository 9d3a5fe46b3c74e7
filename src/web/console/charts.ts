/**
 * Two small charts drawn as inline SVG (no library, no fonts fetched): actions and refusals per
 * hour, and refusals by reason. Each chart is an <svg role="img"> with a <title> and a <desc> that
 * states the numbers, so a screen reader gets the same information as the picture.
 */

const NS = 'http://www.w3.org/2000/svg';

function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function niceMax(n: number): number {
  if (n <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

let uid = 0;

function frame(title: string, desc: string, w: number, hgt: number): SVGSVGElement {
  const id = `chart-${++uid}`;
  const svg = el('svg', { viewBox: `0 0 ${w} ${hgt}`, role: 'img', 'aria-labelledby': `${id}-t ${id}-d`, class: 'chart', preserveAspectRatio: 'xMidYMid meet' }) as SVGSVGElement;
  svg.append(el('title', { id: `${id}-t` }, title), el('desc', { id: `${id}-d` }, desc));
  return svg;
}

function hh(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:00`;
}

export function perHourChart(buckets: readonly { start: number; actions: number; refusals: number }[]): SVGSVGElement {
  const W = 520, H = 200, L = 34, R = 8, T = 12, B = 28;
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.actions + b.refusals)));
  const total = buckets.reduce((a, b) => ({ actions: a.actions + b.actions, refusals: a.refusals + b.refusals }), { actions: 0, refusals: 0 });
  const busy = buckets.filter((b) => b.actions + b.refusals > 0).map((b) => `${hh(b.start)}: ${b.actions} actions, ${b.refusals} refusals`);
  const svg = frame('Actions and refusals per hour', `Last ${buckets.length} hours: ${total.actions} actions and ${total.refusals} refusals. ${busy.join('; ') || 'No activity.'}`, W, H);
  const plotH = H - T - B, plotW = W - L - R;
  const y = (v: number) => T + plotH - (v / max) * plotH;
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.append(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: i === 0 ? 'axis' : 'grid' }));
    svg.append(el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, String(Math.round(v * 10) / 10)));
  }
  const slot = plotW / buckets.length;
  const bw = Math.max(4, slot * 0.62);
  buckets.forEach((b, i) => {
    const x = L + i * slot + (slot - bw) / 2;
    if (b.actions) svg.append(el('rect', { x, y: y(b.actions), width: bw, height: y(0) - y(b.actions), class: 'bar-actions' }));
    if (b.refusals) svg.append(el('rect', { x, y: y(b.actions + b.refusals), width: bw, height: y(b.actions) - y(b.actions + b.refusals), class: 'bar-refusals' }));
    if (b.actions + b.refusals) svg.append(el('text', { x: x + bw / 2, y: y(b.actions + b.refusals) - 3, 'text-anchor': 'middle', class: 'val' }, String(b.actions + b.refusals)));
    if (i % 2 === buckets.length % 2 || buckets.length <= 8) svg.append(el('text', { x: L + i * slot + slot / 2, y: H - 9, 'text-anchor': 'middle', class: 'tick' }, hh(b.start)));
  });
  return svg;
}

export function reasonsChart(rows: readonly { reason: string; count: number }[]): SVGSVGElement {
  const shown = rows.slice(0, 6);
  const W = 520, row = 30, T = 8, L = 170, R = 40;
  const H = Math.max(70, T * 2 + shown.length * row);
  const svg = frame('Refusals by reason', shown.length ? rows.map((r) => `${r.reason}: ${r.count}`).join('; ') : 'No refusals recorded.', W, H);
  if (!shown.length) {
    svg.append(el('text', { x: W / 2, y: H / 2 + 5, 'text-anchor': 'middle', class: 'empty' }, 'No refusals recorded'));
    return svg;
  }
  const max = Math.max(...shown.map((r) => r.count));
  shown.forEach((r, i) => {
    const yy = T + i * row;
    const w = Math.max(3, ((W - L - R) * r.count) / max);
    svg.append(el('text', { x: L - 8, y: yy + row / 2 + 4, 'text-anchor': 'end', class: 'label' }, r.reason.length > 24 ? r.reason.slice(0, 23) + '…' : r.reason));
    svg.append(el('rect', { x: L, y: yy + 5, width: w, height: row - 10, rx: 2, class: 'bar-refusals' }));
    svg.append(el('text', { x: L + w + 6, y: yy + row / 2 + 4, class: 'val' }, String(r.count)));
  });
  return svg;
}
