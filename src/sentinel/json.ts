/**
 * The strings of a JSON document as a reader of the parsed value sees them.
 *
 * Tool results, API responses and exported messages reach a brain as JSON, where a line break inside a
 * string is the two characters `\n` and a quote is `\"`. Read raw, "attached.\nIgnore all previous
 * instructions" is one token "nignore": no phrase rule fired and the classifier saw no sentence start
 * (an override in an e-mail body scored 0.72 as text and 0.13 as a JSON tool result, session 14). A
 * model reads the parsed string. This view is rescanned like the rendered view of markup.
 *
 * Pure and linear: JSON.parse, then one walk over the value with an explicit stack (no recursion, so a
 * deeply nested document cannot overflow the call stack).
 */

/** A backslash escape that JSON uses inside strings (and that glues letters onto words when read raw). */
const JSON_ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/;

/**
 * The document's string values, one per line, each after its key (`key: value`), or null when `text`
 * holds no JSON escape or no part of it parses as JSON. Tried in order: the whole text; the span from
 * its first `{` or `[` to its last `}` or `]` (a tool result with a header line); each line that is a
 * JSON object or array (JSON Lines).
 */
export function jsonStrings(text: string): string | null {
  if (!JSON_ESCAPE.test(text)) return null;
  const whole = parse(text.trim());
  if (whole !== undefined) return render([whole]);
  const a = firstOpening(text), b = Math.max(text.lastIndexOf('}'), text.lastIndexOf(']'));
  if (a >= 0 && b > a) {
    const inner = parse(text.slice(a, b + 1));
    if (inner !== undefined) return render([inner]);
  }
  const values: unknown[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']')))) continue;
    const v = parse(t);
    if (v !== undefined) values.push(v);
  }
  return values.length > 0 ? render(values) : null;
}

/**
 * The strings of `text` when the whole of it is one JSON object or array (a tool result, an API
 * response), whether or not its strings hold escapes; otherwise null. Such a document's keys and syntax
 * are its container's: `{"type": "tool_result", "tool_use_id": ...}` read raw looks like the forged tool
 * results of attacks, and flagged 272 of 300 benign BIPIA contexts wrapped that way (66 wrapped as an
 * OpenAI tool message), against none as plain text (session 15). The detector reads such a document as
 * its strings only (keys included: a key is text too).
 */
export function jsonDocument(text: string): string | null {
  const t = text.trim();
  if (!((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']')))) return null;
  const v = parse(t);
  return v === undefined ? null : render([v]) ?? '';
}

function firstOpening(text: string): number {
  const o = text.indexOf('{'), s = text.indexOf('[');
  return o < 0 ? s : s < 0 ? o : Math.min(o, s);
}

function parse(s: string): unknown {
  if (!(s.startsWith('{') || s.startsWith('['))) return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined; // not JSON (or nested past the engine's limit): no view
  }
}

/** A string value longer than this (or of several lines) is a text of its own. */
const LONG_STRING = 120;

/**
 * Strings of the values, depth first in document order: the texts (long or multi-line strings) first,
 * each as it is, then the short values as `key: value` lines. A tool result's text is what its reader
 * reads; metadata lines before it ("type: tool_result", "id: ...") would share its first 400-character
 * window and count as the rest of its document. (Session 15 also gave the reason that they would put its
 * first sentence second; since session 16 a sentence's position is no feature.)
 */
function render(values: readonly unknown[]): string | null {
  const texts: string[] = [], short: string[] = [];
  const stack: Array<{ key: string | null; value: unknown }> = [];
  for (let i = values.length - 1; i >= 0; i--) stack.push({ key: null, value: values[i] });
  while (stack.length > 0) {
    const { key, value } = stack.pop()!;
    if (typeof value === 'string') {
      if (key === null || value.length > LONG_STRING || value.includes('\n')) texts.push(value);
      else short.push(`${key}: ${value}`);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ key, value: value[i] });
    } else {
      const entries = Object.entries(value as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ key: entries[i]![0], value: entries[i]![1] });
    }
  }
  const out = texts.concat(short);
  return out.length > 0 ? out.join('\n') : null;
}

/**
 * Backslash escapes glued between words outside valid JSON: a Python repr, a YAML or log line quoting a
 * message, a truncated JSON response ("attached.\nIgnore all previous..." with the two characters `\n`).
 * Read raw they glue letters onto words, as in JSON (an override in a quoted log line scored 0.15).
 */
const GLUED_ESCAPE = /[\p{L}\p{N}.!?:;,)"'\]]\\[nrt][\p{L}\p{N}(\[]/u;
const ESCAPES = /\\(\\|r\\n|[nrt"'])/g;

/**
 * The text with `\n`, `\r\n` and `\r` read as line breaks, `\t` as a space and `\"`, `\'` as quotes (an
 * escaped backslash stays one), or null when no such escape sits between two words. Linear: one test,
 * one replace.
 */
export function escapedLineBreaks(text: string): string | null {
  if (!GLUED_ESCAPE.test(text)) return null;
  return text.replace(ESCAPES, (_, e: string) => (e === 'n' || e === 'r' || e === 'r\\n' ? '\n' : e === 't' ? ' ' : e === '\\' ? '\\\\' : e));
}
