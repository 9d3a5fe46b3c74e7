/**
 * Segments of a document and their context, for "task injection": a request aimed at the assistant
 * ("What is the capital of Brazil?", "Write your reply in French") planted in an email, a table cell
 * or a code comment. Such a sentence has no override wording; what gives it away is how it sits in its
 * document: a question or imperative addressed to "you" / the answer, at the start or end, sharing no
 * vocabulary with the text around it, prose in a table. The classifier scores every segment with its
 * own n-grams plus these context features, so a short planted sentence is not diluted by a long window.
 *
 * Segments are lines, table cells and sentences of the normalised (lower-cased) text, at most
 * MAX_SEGMENT characters. Everything here is one pass over the text (plus a token-count map): linear.
 */
import { tokenize } from './rules.ts';
import { rot13 } from './normalize.ts';

export const MAX_SEGMENT = 320;

export interface Segment { readonly start: number; readonly end: number }

function isSentenceEnd(c: number): boolean {
  return c === 0x2e || c === 0x3f || c === 0x21 || c === 0x3b || c === 0x061f || c === 0x0964;
}
function isCjkSentenceEnd(c: number): boolean {
  return c === 0x3002 || c === 0xff1f || c === 0xff01 || c === 0xff1b;
}
function isSpace(c: number): boolean { return c === 0x20 || c === 0x09 || c === 0x0d; }

/** Lines, table cells ('|') and sentences of `text`, each non-blank and at most MAX_SEGMENT long. */
export function segment(text: string): Segment[] {
  const out: Segment[] = [];
  const n = text.length;
  let start = 0;
  const push = (s: number, e: number): void => {
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    while (e - s > MAX_SEGMENT) {
      // cut a long run at the last space before the limit (or hard at the limit)
      // bounded backward search (lastIndexOf would scan to the start of a text without spaces)
      let cut = s + MAX_SEGMENT;
      while (cut > s + MAX_SEGMENT / 2 && text.charCodeAt(cut) !== 0x20) cut--;
      if (cut <= s + MAX_SEGMENT / 2) cut = s + MAX_SEGMENT;
      out.push({ start: s, end: cut });
      s = cut;
      while (s < e && isSpace(text.charCodeAt(s))) s++;
    }
    if (e > s) out.push({ start: s, end: e });
  };
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x7c) { push(start, i); start = i + 1; }
    else if (isCjkSentenceEnd(c) || (isSentenceEnd(c) && (i + 1 >= n || isSpace(text.charCodeAt(i + 1)) || text.charCodeAt(i + 1) === 0x0a))) {
      push(start, i + 1); start = i + 1;
    }
  }
  push(start, n);
  return out;
}

// Second-person address, mentions of the assistant and of its answer, across the languages we cover.
// Whole tokens after normalisation (lower case); CJK/Hindi forms are matched as substrings.
const SECOND_PERSON = new Set([
  'you', 'your', 'yours', 'yourself', 'u', 'tu', 'vous', 'votre', 'vos', 'ton', 'ta', 'tes', 'toi', 'du', 'dein', 'deine', 'deinen',
  'deiner', 'dir', 'dich', 'ihre', 'ihrer', 'tú', 'usted', 'tus', 'tuo', 'tua', 'tuoi', 'tue', 'você', 'voce', 'vocês', 'seu', 'sua',
  'je', 'jij', 'jouw', 'uw', 'ты', 'вы', 'твой', 'твоя', 'твоём', 'твоем', 'ваш', 'ваша', 'вашем', 'тебя', 'вас', 'свой', 'своём',
  'din', 'ditt', 'dina', 'dig', 'ty', 'twój', 'twoja', 'twojej', 'twoim', 'sen', 'siz', 'senin', 'sizin', 'أنت', 'انت', 'لك', 'آپ',
  'आप', 'तुम', 'आपका', 'आपके', 'आपकी',
]);
const SECOND_PERSON_SUB = ['你', '您', 'あなた', '당신', '너는', '네가'];
const AI_WORDS = new Set([
  'ai', 'assistant', 'chatbot', 'bot', 'llm', 'gpt', 'chatgpt', 'model', 'agent', 'copilot', 'ia', 'assistente', 'asistente', 'ki',
  'assistent', 'ассистент', 'ии', 'модель', 'الذكاء', 'المساعد', 'asystent', 'asistan', 'yapay', 'सहायक',
]);
const AI_SUB = ['助手', '人工智能', 'アシスタント', '人工知能', 'ＡＩ', '어시스턴트', '인공지능'];
const ANSWER_WORDS = new Set([
  'answer', 'answers', 'response', 'responses', 'reply', 'replies', 'output', 'réponse', 'reponse', 'antwort', 'ausgabe', 'respuesta',
  'risposta', 'resposta', 'antwoord', 'ответ', 'ответе', 'ответа', 'svar', 'svaret', 'odpowiedź', 'odpowiedzi', 'cevap', 'cevabında',
  'yanıt', 'yanıtında', 'उत्तर', 'जवाब', 'ردك', 'إجابتك', 'اجابتك', 'جوابك',
]);
const ANSWER_SUB = ['回答', '回复', '回覆', '答复', '答え', '返信', '応答', '답변', '응답'];

function hasSub(s: string, subs: readonly string[]): boolean {
  for (const x of subs) if (s.includes(x)) return true;
  return false;
}

function isContent(tok: string): boolean {
  // Letters of alphabetic scripts only (a CJK run is one long token and says nothing about overlap).
  if (tok.length < 4) return false;
  const c = tok.charCodeAt(0);
  return c < 0x3000;
}

/**
 * Context features of every segment (strings; the classifier hashes them). `text` is normalised text,
 * `segs` its segments, `toks` the tokens of each segment.
 */
export function contextFeatures(text: string, segs: readonly Segment[], toks: readonly string[][]): string[][] {
  const docCount = new Map<string, number>();
  let docContent = 0;
  for (const ts of toks) for (const t of ts) if (isContent(t)) { docCount.set(t, (docCount.get(t) ?? 0) + 1); docContent++; }
  // Table-like document: most lines carry '|'.
  let lines = 0, pipeLines = 0;
  {
    let ls = 0;
    for (let i = 0; i <= text.length; i++) {
      if (i === text.length || text.charCodeAt(i) === 0x0a) {
        if (i > ls) { lines++; if (text.slice(ls, i).includes('|')) pipeLines++; }
        ls = i + 1;
      }
    }
  }
  const tableDoc = lines >= 3 && pipeLines * 2 > lines;
  const out: string[][] = [];
  const N = segs.length;
  for (let k = 0; k < N; k++) {
    const seg = segs[k]!;
    const st = text.slice(seg.start, seg.end);
    const ts = toks[k]!;
    const f: string[] = ['u:seg'];
    const pos = N === 1 ? 'only' : k === 0 ? 'first' : k === N - 1 ? 'last' : 'mid';
    f.push('pos:' + pos);
    // Vocabulary shared with the rest of the document.
    const segCount = new Map<string, number>();
    let content = 0;
    for (const t of ts) if (isContent(t)) { segCount.set(t, (segCount.get(t) ?? 0) + 1); content++; }
    let nov: string;
    if (docContent - content < 15) nov = 'short';
    else if (content < 2) nov = 'na';
    else {
      let shared = 0;
      for (const [t, c] of segCount) if ((docCount.get(t) ?? 0) > c) shared += c;
      const r = shared / content;
      nov = r === 0 ? '0' : r < 0.34 ? '1' : r < 0.67 ? '2' : '3';
    }
    f.push('nov:' + nov);
    const last = st.charCodeAt(st.length - 1);
    const q = last === 0x3f || last === 0xff1f || last === 0x061f;
    let p2 = hasSub(st, SECOND_PERSON_SUB), ai = hasSub(st, AI_SUB), ans = hasSub(st, ANSWER_SUB);
    for (const t of ts) {
      if (!p2 && SECOND_PERSON.has(t)) p2 = true;
      if (!ai && AI_WORDS.has(t)) ai = true;
      if (!ans && ANSWER_WORDS.has(t)) ans = true;
    }
    const len = ts.length <= 3 ? 'xs' : ts.length <= 8 ? 's' : ts.length <= 20 ? 'm' : 'l';
    f.push('len:' + len);
    const flags = [q ? 'q' : '', p2 ? '2p' : '', ai ? 'ai' : '', ans ? 'ans' : ''].filter((x) => x !== '');
    for (const x of flags) f.push(x, `${x}&pos:${pos}`, `${x}&nov:${nov}`);
    if (p2 && ans) f.push('2p&ans');
    if (q && p2) f.push('q&2p', `q&2p&nov:${nov}`);
    if (tableDoc && !st.includes('|')) {
      // A line of prose in a table document (cells are split at '|', so test the whole line).
      const ls = text.lastIndexOf('\n', seg.start) + 1;
      let le = text.indexOf('\n', seg.end); if (le < 0) le = text.length;
      if (le - ls <= 2000 && !text.slice(ls, le).includes('|') && ts.length >= 4) f.push('prose-in-table', `prose-in-table&len:${len}`);
    }
    const ft = ts[0];
    if (ft !== undefined) { f.push('ft:' + ft, `ft:${ft}&pos:${pos}`, `ft:${ft}&nov:${nov}`); }
    out.push(f);
  }
  return out;
}

// Very common function words (English first, then the Latin-script languages rot13 is seen with). A
// sentence of prose hits many of them; its rot13 hits almost none, and the reverse for rot13'd prose.
const COMMON = new Set(('the and to of a in is you your that it for on with as are be this all or not by from at an have was ' +
  'will can do if what which their about any how into more other only new now then these them they we our my me should must ' +
  'please write tell give make include answer response reply explain previous instructions ignore instead following use add ' +
  'using without every word words each text one before after also but so there here its his her has had would could just like ' +
  'who where when why le la les de des et un une est pour der die das und ist nicht el los las y en que por con para').split(' '));

function commonRate(s: string): { words: number; rate: number } {
  let words = 0, common = 0;
  for (const t of tokenize(s)) {
    let ascii = true;
    for (let i = 0; i < t.length; i++) { const c = t.charCodeAt(i); if (c < 0x61 || c > 0x7a) { ascii = false; break; } }
    if (!ascii) continue;
    words++;
    if (COMMON.has(t)) common++;
  }
  return { words, rate: words > 0 ? common / words : 0 };
}

/**
 * rot13 has no syntax to find: decode the segments of normalised `text` whose rot13 reads as common
 * words much more than the segment itself does, and return them joined (null when there are none).
 */
export function rot13Candidates(text: string): string | null {
  let out: string[] | null = null;
  for (const sg of segment(text)) {
    const s = text.slice(sg.start, sg.end);
    const orig = commonRate(s);
    if (orig.words < 3) continue;
    const r = rot13(s);
    const dec = commonRate(r);
    if (dec.rate >= 0.2 && dec.rate > orig.rate + 0.15) (out ??= []).push(r);
  }
  return out === null ? null : out.join('\n');
}
