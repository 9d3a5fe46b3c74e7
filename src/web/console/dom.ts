/** A tiny element builder: text goes in as textContent only, so ledger text can never become markup. */

export type Child = Node | string | number | null | undefined | false;
type Attr = string | number | boolean | undefined | ((e: Event) => void);

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, Attr> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') e.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  append(e, children);
  return e;
}

export function append(e: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'number' ? String(c) : c);
  }
}

export function clear(e: Element): void {
  while (e.firstChild) e.firstChild.remove();
}

/** A definition list from [term, value] pairs. */
export function dl(pairs: [string, Child][], cls = 'kv'): HTMLDListElement {
  const d = h('dl', { class: cls });
  for (const [k, v] of pairs) d.append(h('div', {}, h('dt', {}, k), h('dd', {}, v)));
  return d;
}

/** A JSON value shown plainly: strings as text, arrays as chips, objects as nested lists. */
export function value(v: unknown, depth = 0): Child {
  if (v === null || v === undefined) return h('span', { class: 'muted' }, 'none');
  if (typeof v === 'string' && /^[A-Za-z0-9_:=-]{32,}$/.test(v)) return h('span', { class: 'mono hash' }, v.length > 300 ? v.slice(0, 300) + '…' : v);
  if (typeof v === 'string') return v.length > 300 ? h('span', { class: 'mono' }, v.slice(0, 300) + `… (${v.length} characters)`) : v;
  if (typeof v === 'number' || typeof v === 'boolean') return h('span', { class: 'mono' }, String(v));
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string' || typeof x === 'number')) return h('ul', { class: 'chips' }, ...v.map((x) => h('li', {}, String(x))));
    return h('ol', { class: 'list' }, ...v.slice(0, 50).map((x) => h('li', {}, value(x, depth + 1))));
  }
  if (typeof v === 'object' && depth < 3) return dl(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, value(x, depth + 1)]), 'kv nested');
  return h('code', {}, JSON.stringify(v).slice(0, 300));
}
