/**
 * The multilingual concept lexicon: what an injection is about, in words of ~90 languages.
 *
 * An injection is recognisable by its concepts more than by its wording: "ignore" + "previous" +
 * "instructions", "send" + "password", "you are now" + "unrestricted mode". Each line of
 * src/sentinel/lexicon/*.jsonl gives, for one language, the word forms (or stems, `word*`) of concepts:
 * 14 core ones every language has (*.jsonl), four tool actions (*-actions.jsonl: delete, pay,
 * approve, tool) and five more (*-more.jsonl: void, task, only, promote, summary); and, for the
 * languages the hand-written closed-class lists below lack, those seven classes too. A language may have lines in several files, at most one per file. The classifier sees concepts as language-independent features (conceptFeatures), so
 * weights learned from attacks in the 41 training languages carry over to every language the lexicon
 * covers, with no attack examples in it.
 *
 * Matching is one walk of a character trie per token (words and stems) and, for scripts written
 * without spaces, one bounded walk per character (substrings): linear in the text. A long token that
 * matches nothing is tried with one typo (conceptHits), within a per-text budget of trie steps.
 *
 * Languages in LEXICON_EXCLUDED_LANGUAGES are refused: they are kept out so that the fourth probe of
 * the evaluation (data/sentinel/probe4-unseen-languages.jsonl) measures languages SIOS knows nothing of.
 * (The second probe's languages were excluded likewise until the lexicon took them in.)
 *
 * The files are read once with node:fs when this module loads; a malformed line is a build defect and
 * throws, naming the file, line and what is wrong.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IntPairs, type TokenSpans } from './rules.ts';

export const CONCEPTS = ['OVR', 'PRIOR', 'INSTR', 'SYS', 'SECRET', 'SEND', 'LINK', 'ROLE', 'NEW', 'URGENT', 'USER', 'HIDE', 'REVEAL', 'DOC', 'DELETE', 'PAY', 'APPROVE', 'TOOL', 'VOID', 'TASK', 'ONLY', 'PROMOTE', 'SUMMARY'] as const;
export type Concept = (typeof CONCEPTS)[number];
/** Every language must have these (across its lines); the tool-action concepts after them are optional. */
export const CORE_CONCEPTS: readonly Concept[] = CONCEPTS.slice(0, 14);
/** The closed classes of segments.ts a lexicon line may add (for languages it has no list for). */
export const CLOSED_CLASSES = ['P2', 'P1', 'IMP', 'QW', 'PL', 'AI', 'ANS'] as const;
export type ClosedClass = (typeof CLOSED_CLASSES)[number];

/** Languages no lexicon line may cover: the fourth unseen-language probe is written in them. */
export const LEXICON_EXCLUDED_LANGUAGES: readonly string[] = ['gn', 'ay', 'rm', 'sc', 'kw', 'gv', 'fj', 'to', 'tpi', 'ceb'];

/** Shortest stem (characters before '*'): shorter ones would match unrelated words. */
const MIN_STEM = 4;
/** Typo-tolerant matching (see conceptHits): tokens of this many characters, edits after the first FUZZY_FROM, forms of FUZZY_MIN_FORM+. */
const FUZZY_MIN_TOKEN = 6, FUZZY_MAX_TOKEN = 24, FUZZY_FROM = 2, FUZZY_MIN_FORM = 6;
/** Trie steps the fuzzy walks of one text may take, per character (prose in the corpora takes 1.9 on average; crafted text is cut off). */
const FUZZY_STEPS_PER_CHAR = 4;
const FUZZY_MAX_FANOUT = 16;
/** Longest substring walked from one position (scripts without spaces). */
const MAX_SUB = 12;

export const LEXICON_DIR = new URL('./lexicon/', import.meta.url);

interface Line { readonly lang: string; readonly words: Record<string, string[]>; readonly substrings: Record<string, string[]> }

/** A character trie while the lexicon is read: children per node (Map by UTF-16 unit), and the bits ending at a node. */
class TrieBuilder {
  readonly kids: Array<Map<number, number>> = [new Map()];
  /** Bits of a whole word ending at the node (the token must end there). */
  readonly word: number[] = [0];
  /** Bits of a stem ending at the node (the token may go on). */
  readonly stem: number[] = [0];
  /** Characters from the root to the node. */
  readonly depth: number[] = [0];
  add(w: string, bits: number, isStem: boolean): void {
    let n = 0;
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i);
      let k = this.kids[n]!.get(c);
      if (k === undefined) { k = this.kids.length; this.kids.push(new Map()); this.word.push(0); this.stem.push(0); this.depth.push(i + 1); this.kids[n]!.set(c, k); }
      n = k;
    }
    if (isStem) this.stem[n]! |= bits; else this.word[n]! |= bits;
  }
}

/**
 * The trie of a TrieBuilder, laid out for its walks (the hot path of the lexicon): nodes are numbered
 * breadth-first so that the children of a node are consecutive, in the order they were added; a
 * node's fields sit together in one typed array. A child is found by scanning the units of its
 * siblings when they are few (most nodes: a few bytes next to each other), and in an open-addressing
 * table of the edges of the busier nodes otherwise.
 */
class Trie {
  private static readonly NODE = 8;
  private static readonly WORD = 0;
  private static readonly STEM = 1;
  private static readonly DEPTH = 2;
  private static readonly FANOUT = 3;
  private static readonly FIRST = 4;
  /** Children of a node with at most this many are found by scanning; those of busier nodes, in the table. */
  private static readonly SCAN = 8;
  /** Node n is nodes[NODE * n + field]: its word and stem bits, depth, number of children and first child. */
  private readonly nodes: Int32Array;
  /** The unit that leads to node k. */
  private readonly units: Int32Array;
  /** Slot s is table[3s, 3s + 3) = [node, unit, child] (child -1: empty); at most half full. */
  private readonly table: Int32Array;
  readonly size: number;

  constructor(b: TrieBuilder) {
    const X = Trie, count = b.kids.length;
    this.size = count;
    this.nodes = new Int32Array(X.NODE * count);
    this.units = new Int32Array(count);
    // Breadth-first: order[q] is the builder's node that becomes node q.
    const order = new Int32Array(count);
    let next = 1, busyEdges = 0;
    for (let q = 0; q < count; q++) {
      const o = order[q]!, at = X.NODE * q, kids = b.kids[o]!;
      this.nodes[at + X.WORD] = b.word[o]!;
      this.nodes[at + X.STEM] = b.stem[o]!;
      this.nodes[at + X.DEPTH] = b.depth[o]!;
      this.nodes[at + X.FANOUT] = kids.size;
      this.nodes[at + X.FIRST] = next;
      for (const [c, k] of kids) { this.units[next] = c; order[next++] = k; }
      if (kids.size > X.SCAN) busyEdges += kids.size;
    }
    let slots = 16;
    while (slots < 2 * busyEdges) slots *= 2;
    this.table = new Int32Array(3 * slots);
    for (let s = 0; s < slots; s++) this.table[3 * s + 2] = -1;
    for (let n = 0; n < count; n++) {
      if (this.fanout(n) <= X.SCAN) continue;
      for (let k = this.firstChild(n), e = k + this.fanout(n); k < e; k++) {
        let s = X.slot(n, this.units[k]!) & (slots - 1);
        while (this.table[3 * s + 2]! >= 0) s = (s + 1) & (slots - 1);
        this.table[3 * s] = n; this.table[3 * s + 1] = this.units[k]!; this.table[3 * s + 2] = k;
      }
    }
  }
  /** The child of node n by unit c, or -1. */
  child(n: number, c: number): number {
    const f = this.fanout(n);
    if (f <= Trie.SCAN) {
      const units = this.units;
      for (let k = this.firstChild(n), e = k + f; k < e; k++) if (units[k] === c) return k;
      return -1;
    }
    const t = this.table, mask = t.length / 3 - 1;
    for (let s = Trie.slot(n, c) & mask; ; s = (s + 1) & mask) {
      const k = t[3 * s + 2]!;
      if (k < 0 || (t[3 * s] === n && t[3 * s + 1] === c)) return k;
    }
  }
  /** Bits of a whole word ending at the node (the token must end there). */
  word(n: number): number { return this.nodes[Trie.NODE * n + Trie.WORD]!; }
  /** Bits of a stem ending at the node (the token may go on). */
  stem(n: number): number { return this.nodes[Trie.NODE * n + Trie.STEM]!; }
  /** Characters from the root to the node. */
  depth(n: number): number { return this.nodes[Trie.NODE * n + Trie.DEPTH]!; }
  /** The children of n are firstChild(n) .. firstChild(n) + fanout(n) - 1, in the order they were added. */
  fanout(n: number): number { return this.nodes[Trie.NODE * n + Trie.FANOUT]!; }
  firstChild(n: number): number { return this.nodes[Trie.NODE * n + Trie.FIRST]!; }
  /** The unit that leads to node k. */
  unitTo(k: number): number { return this.units[k]!; }
  private static slot(n: number, c: number): number { return Math.imul(n, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b); }
}

/** Concept bits (CONCEPTS order) by word and stem, while the lexicon is read (see WORDS). */
const WORDS_BUILDER = new TrieBuilder();
/** Concept bits by substring (zh, ja, ko, th, lo, km, my), likewise (see SUBS). */
const SUBS_BUILDER = new TrieBuilder();
/** Closed-class words from the lexicon files, for segments.ts: [word, class] pairs. */
const closedWords: Array<[string, ClosedClass]> = [];
const closedSubs: Array<[string, ClosedClass]> = [];
const languages: string[] = [];
/** Every word and stem of the lexicon written in the letters a-z alone (accents removed), for unspaced.ts. */
const latinForms = new Set<string>();

/** `w` with the accents of Latin letters removed (NFD, drop U+0300..U+036F, NFC); other scripts unchanged. */
function stripLatinMarks(w: string): string {
  if (!/[\u00c0-\u024f]/.test(w)) return w;
  return w.normalize('NFD').replace(/(?<=[a-z])[\u0300-\u036f]+/g, '').normalize('NFC');
}

function fail(where: string, what: string): never {
  throw new Error(`Sentinel lexicon ${where}: ${what}; fix the line (see src/sentinel/lexicon.ts for the format)`);
}

function checkForm(where: string, key: string, w: unknown): string {
  if (typeof w !== 'string' || w === '') fail(where, `${key} has an empty or non-string form`);
  if (w !== w.normalize('NFKC').toLowerCase()) fail(where, `${key} form ${JSON.stringify(w)} is not lower-case NFKC`);
  if (/\s/u.test(w)) fail(where, `${key} form ${JSON.stringify(w)} contains whitespace`);
  const star = w.indexOf('*');
  if (star >= 0 && (star !== w.length - 1 || star < MIN_STEM)) fail(where, `${key} form ${JSON.stringify(w)}: a '*' must end a stem of at least ${MIN_STEM} characters`);
  return w;
}

interface Sinks {
  words: TrieBuilder; subs: TrieBuilder; closedWords: Array<[string, ClosedClass]>; closedSubs: Array<[string, ClosedClass]>; languages: string[];
  /** Where the a-z forms go (null when only checking a file). */
  latinForms: Set<string> | null;
  /** Concepts with forms so far, per language (a language may have lines in several files), and where it was first seen. */
  have: Map<string, { concepts: Set<string>; where: string }>;
  /** Languages seen in the current file (a language appears at most once per file). */
  inFile: Set<string>;
}

/** Check one line of a lexicon file and add it to `sinks`; throws naming `where` and what is wrong. */
function addLine(raw: string, where: string, sinks: Sinks): void {
  let x: Line;
  try { x = JSON.parse(raw) as Line; } catch (e) { fail(where, `not JSON (${(e as Error).message})`); }
  if (x === null || typeof x !== 'object' || Array.isArray(x)) fail(where, 'a line must be a JSON object');
  if (typeof x.lang !== 'string' || !/^[a-z]{2,3}$/.test(x.lang)) fail(where, `lang must be an ISO 639-1 code (or ISO 639-3 where there is none), got ${JSON.stringify(x.lang)}`);
  if (LEXICON_EXCLUDED_LANGUAGES.includes(x.lang)) fail(where, `language ${x.lang} is reserved for the unseen-language probe`);
  if (sinks.inFile.has(x.lang)) fail(where, `language ${x.lang} appears twice in this file`);
  sinks.inFile.add(x.lang);
  let have = sinks.have.get(x.lang);
  if (have === undefined) { sinks.have.set(x.lang, have = { concepts: new Set(), where }); sinks.languages.push(x.lang); }
  for (const [field, trie, closed] of [['words', sinks.words, sinks.closedWords], ['substrings', sinks.subs, sinks.closedSubs]] as const) {
    const m: unknown = x[field] ?? {};
    if (m === null || typeof m !== 'object' || Array.isArray(m)) fail(where, `${field} must be an object`);
    for (const [key, forms] of Object.entries(m as Record<string, unknown>)) {
      if (!Array.isArray(forms)) fail(where, `${field}.${key} must be a list`);
      const ci = CONCEPTS.indexOf(key as Concept);
      const closedKey = CLOSED_CLASSES.includes(key as ClosedClass) ? (key as ClosedClass) : null;
      if (ci < 0 && closedKey === null) fail(where, `${field} has an unknown key ${key} (known: ${[...CONCEPTS, ...CLOSED_CLASSES].join(' ')})`);
      if (forms.length === 0) fail(where, `${field}.${key} is an empty list`);
      have.concepts.add(key);
      for (const w0 of forms) {
        const w = checkForm(where, key, w0);
        const isStem = w.endsWith('*');
        // The detector removes invisible joiners before matching (normalize.ts): so does the lexicon.
        const body = (isStem ? w.slice(0, -1) : w).replace(/[\u00ad\u200b-\u200d\u2060\ufeff]/g, '');
        if (field === 'substrings' && (isStem || body.length < 2)) fail(where, `substring ${JSON.stringify(w)} must be 2+ characters with no '*'`);
        if (closedKey !== null) { if (!isStem) closed.push([body, closedKey]); continue; }
        trie.add(body, 1 << ci, isStem);
        // People often type Latin-script words without their accents: match those too.
        const bare = stripLatinMarks(body);
        if (sinks.latinForms !== null && field === 'words' && /^[a-z]{3,}$/.test(bare)) sinks.latinForms.add(bare);
        if (bare !== body && bare.length >= (isStem ? MIN_STEM : 2)) trie.add(bare, 1 << ci, isStem);
      }
    }
  }
}

/** After the last line: every language has forms for every core concept. */
function checkComplete(sinks: Sinks): void {
  for (const [lang, h] of sinks.have) {
    const missing = CORE_CONCEPTS.filter((c) => !h.concepts.has(c));
    if (missing.length > 0) fail(h.where, `language ${lang} has no forms for concept${missing.length > 1 ? 's' : ''} ${missing.join(' ')}`);
  }
}

/** Every line of one lexicon file (its text, its name for errors) into `sinks`. */
function addFile(text: string, name: string, sinks: Sinks): void {
  sinks.inFile = new Set();
  text.split('\n').forEach((raw, i) => { if (raw.trim() !== '') addLine(raw, `${name}:${i + 1}`, sinks); });
}

/** Check the lines of a lexicon file without installing them (for tests and tooling); throws like the loader. */
export function checkLexiconText(text: string, name = 'input'): { languages: string[] } {
  const sinks: Sinks = { words: new TrieBuilder(), subs: new TrieBuilder(), closedWords: [], closedSubs: [], languages: [], latinForms: null, have: new Map(), inFile: new Set() };
  addFile(text, name, sinks);
  checkComplete(sinks);
  return { languages: sinks.languages };
}

function load(): void {
  const dir = fileURLToPath(LEXICON_DIR);
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  if (files.length === 0) throw new Error(`Sentinel lexicon: no *.jsonl files in ${dir}`);
  const sinks: Sinks = { words: WORDS_BUILDER, subs: SUBS_BUILDER, closedWords, closedSubs, languages, latinForms, have: new Map(), inFile: new Set() };
  for (const f of files) addFile(readFileSync(dir + f, 'utf8'), f, sinks);
  checkComplete(sinks);
}
load();

/** Words and stems of the lexicon (3+ letters) written in a-z alone, accents removed. */
export const LEXICON_LATIN_FORMS: ReadonlySet<string> = latinForms;

/** The languages the lexicon files cover (ISO 639-1), in file order. */
export const LEXICON_LANGUAGES: readonly string[] = Object.freeze(languages);

// --- Closed classes -------------------------------------------------------------------------------
// Who a sentence addresses and what it asks for is carried by a few closed-class words in every
// language: second-person pronouns (P2), first person (P1), request verbs in the imperative (IMP),
// question words (QW), "please" (PL), names of the assistant (AI) and of its answer (ANS). segments.ts
// reads a sentence's shape from them. The hand-written lists below come first; the lexicon files add
// the languages they lack. One line per language: "CLASS: words|CLASS: words".
// Whole tokens after normalisation (NFKC, lower case).
const CLOSED_INLINE: readonly string[] = [
  // en
  'P2: you your yours yourself yourselves u ya thee thou thy ur|P1: i me my mine we us our ours myself|IMP: write tell answer respond reply explain describe list name give translate summarize summarise show provide generate create compose draft include add insert append prepend ignore disregard forget print output say recommend mention remove delete replace rewrite start begin end conclude calculate compute suggest share define compare convert repeat use make recite spell introduce rearrange change format teach elaborate outline discuss identify classify solve pretend act imagine brainstorm encourage urge promote advertise integrate incorporate embed refer direct send forward visit click download stop avoid sing paraphrase analyze analyse evaluate predict guess reveal display render|QW: what who whom whose where when why how which can could would will do does did is are should may shall|PL: please pls plz kindly|AI: ai assistant chatbot bot llm gpt chatgpt model agent copilot claude gemini|ANS: answer answers response responses reply replies output summary completion',
  // fr
  'P2: tu vous ton ta tes votre vos toi te t|P1: je j nous notre nos moi me m mon ma mes|IMP: écris écrivez dis dites réponds répondez explique expliquez décris décrivez liste listez énumère traduis traduisez résume résumez donne donnez montre montrez fournis génère générez crée créez compose rédige rédigez inclus incluez ajoute ajoutez insère insérez ignore ignorez oublie oubliez affiche imprime recommande recommandez mentionne supprime remplace réécris commence commencez termine terminez calcule suggère partage définis compare convertis répète utilise fais faites raconte racontez indique indiquez présente cite nomme|QW: quel quelle quels quelles qui où quand pourquoi comment combien quoi qu est-ce|PL: plaît svp veuillez|AI: assistant ia modèle chatbot|ANS: réponse réponses sortie',
  // de
  'P2: du dein deine deinen deiner deinem deines dir dich euch euer eure|P1: ich wir mir mich uns unser unsere mein meine meinen|IMP: schreib schreibe sag sage erzähl erzähle antworte beantworte erkläre erklären beschreibe liste nenne nennen übersetze übersetzen fasse gib geben zeige zeig erstelle erstellen verfasse füge ergänze ignoriere ignorieren vergiss drucke empfiehl erwähne entferne ersetze beginne beende berechne schlage teile definiere vergleiche wiederhole verwende benutze mach mache formuliere|QW: was wer wo wann warum wie welche welcher welches wieso weshalb wieviel kannst könntest kann könnten würdest ist sind|PL: bitte|AI: ki assistent assistentin modell chatbot|ANS: antwort antworten ausgabe',
  // es
  'P2: tú tu tus te ti usted ustedes vosotros vuestro vuestra contigo|P1: yo me mi mis nosotros nuestro nuestra nos|IMP: escribe escriba di diga dime dígame responde responda contesta explica explique explícame describe describa enumera lista traduce traduzca resume resuma da dame deme muestra muestre proporciona genera crea cree redacta compón incluye incluya añade añada agrega agregue inserta ignora olvida olvide imprime recomienda menciona elimina quita reemplaza sustituye reescribe comienza empieza termina calcula sugiere comparte define compara convierte repite usa utiliza haz cuéntame cuenta indica nombra|QW: qué quién quiénes dónde cuándo cómo cuál cuáles cuánto cuántos cuántas puedes podrías|PL: favor|AI: ia asistente modelo chatbot|ANS: respuesta respuestas salida',
  // it
  'P2: tu tuo tua tuoi tue te ti voi vostro vostra|P1: io mi me mio mia miei noi nostro nostra ci|IMP: scrivi scriva dimmi di dica rispondi risponda spiega spieghi descrivi elenca traduci riassumi dai dammi mostra mostrami fornisci genera crea componi redigi includi aggiungi inserisci ignora dimentica stampa raccomanda consiglia menziona rimuovi elimina sostituisci riscrivi inizia comincia termina concludi calcola suggerisci condividi definisci confronta converti ripeti usa utilizza fai racconta indica nomina|QW: cosa chi dove quando perché come quale quali quanto quanti puoi potresti|PL: favore prego cortesia|AI: ia assistente modello chatbot|ANS: risposta risposte output',
  // pt
  'P2: você vocês voce tu teu tua te ti contigo|P1: eu me meu minha nós nosso nossa|IMP: escreva escreve diga diz responda responde explique explica descreva liste enumere traduza resuma dê mostre forneça gere crie componha redija inclua adicione acrescente insira ignore esqueça imprima recomende mencione remova substitua reescreva comece termine calcule sugira compartilhe defina compare converta repita use utilize faça conte indique cite|QW: que quem onde quando porque como qual quais quanto quantos pode poderia|PL: favor gentileza|AI: ia assistente modelo chatbot|ANS: resposta respostas saída',
  // nl
  'P2: je jij jou jouw u uw jullie|P1: ik mij me mijn wij we ons onze|IMP: schrijf zeg vertel antwoord beantwoord leg beschrijf noem geef vertaal vat toon maak genereer voeg negeer vergeet druk raad vermeld verwijder vervang herschrijf begin eindig bereken stel deel definieer vergelijk herhaal gebruik|QW: wat wie waar wanneer waarom hoe welke welk hoeveel kun kunt kan|PL: alsjeblieft alstublieft aub graag|AI: ai assistent model chatbot|ANS: antwoord antwoorden uitvoer',
  // sv
  'P2: du dig din ditt dina ni er ert era|P1: jag mig mej min mitt mina vi oss vår vårt våra|IMP: skriv säg berätta svara besvara förklara beskriv lista nämn ge översätt sammanfatta visa skapa generera lägg inkludera ignorera glöm rekommendera ta ersätt börja avsluta beräkna föreslå dela definiera jämför upprepa använd gör|QW: vad vem var när varför hur vilken vilket vilka kan kan|PL: snälla vänligen|AI: ai assistent modell chatbot|ANS: svar svaret svaren',
  // da
  'P2: du dig din dit dine jer jeres|P1: jeg mig min mit mine vi os vores|IMP: skriv sig fortæl svar besvar forklar beskriv nævn giv oversæt opsummer vis lav skab generer tilføj inkluder ignorer glem anbefal fjern erstat begynd afslut beregn foreslå del definer sammenlign gentag brug gør|QW: hvad hvem hvor hvornår hvorfor hvordan hvilken hvilket hvilke|PL: venligst|AI: ai assistent model|ANS: svar svaret',
  // no
  'P2: du deg din ditt dine dere deres|P1: jeg meg min mitt mine vi oss vår|IMP: skriv si fortell svar forklar beskriv nevn gi oversett oppsummer vis lag generer legg inkluder ignorer glem anbefal fjern erstatt begynn avslutt beregn foreslå del definer sammenlign gjenta bruk gjør|QW: hva hvem hvor når hvorfor hvordan hvilken hvilket hvilke|PL: vennligst|AI: ai assistent modell|ANS: svar svaret',
  // fi
  'P2: sinä sinun sinulle sinua te teidän sä sun|P1: minä minun minulle minua me meidän mä|IMP: kirjoita kerro vastaa selitä kuvaile luettele nimeä anna käännä tiivistä näytä luo tee lisää sisällytä ohita unohda tulosta suosittele mainitse poista korvaa aloita lopeta laske ehdota jaa määrittele vertaa toista käytä|QW: mikä mitä kuka missä milloin miksi miten kuinka mitkä montako|PL: kiitos|AI: avustaja tekoäly malli|ANS: vastaus vastauksesi vastauksessasi',
  // pl
  'P2: ty ciebie cię tobie ci twój twoja twoje twojej twoim twojego wy wasz wasza wasze|P1: ja mnie mi mój moja moje my nas nam nasz nasza|IMP: napisz powiedz opowiedz odpowiedz wyjaśnij objaśnij opisz wymień podaj przetłumacz streść podsumuj pokaż stwórz utwórz wygeneruj dodaj dołącz uwzględnij zignoruj zapomnij wydrukuj wypisz poleć wspomnij usuń zastąp zacznij rozpocznij zakończ oblicz zaproponuj udostępnij zdefiniuj porównaj powtórz użyj zrób|QW: co kto gdzie kiedy dlaczego czemu jak jaki jaka jakie który która które ile czy|PL: proszę prosze|AI: asystent asystencie ai si model|ANS: odpowiedź odpowiedzi odpowiedzią',
  // cs
  'P2: ty tebe tě tobě ti tvůj tvoje tvá vy vás vám váš vaše|P1: já mě mi můj moje my nás nám náš naše|IMP: napiš řekni pověz odpověz vysvětli popiš vyjmenuj uveď dej přelož shrň ukaž vytvoř vygeneruj přidej zahrň ignoruj zapomeň vypiš doporuč zmiň odstraň nahraď začni ukonči spočítej navrhni sdílej definuj porovnej zopakuj použij udělej|QW: co kdo kde kdy proč jak jaký jaká jaké který kolik|PL: prosím|AI: asistent ai model|ANS: odpověď odpovědi',
  // sk
  'P2: ty teba ti tvoj tvoja tvoje vy vás vám váš vaša|P1: ja mňa mi môj moja my nás nám náš naša|IMP: napíš povedz odpovedz vysvetli opíš vymenuj uveď daj prelož zhrň ukáž vytvor pridaj zahrň ignoruj zabudni vypíš odporuč spomeň odstráň nahraď začni ukonči vypočítaj navrhni porovnaj zopakuj použi urob|QW: čo kto kde kedy prečo ako aký aká aké ktorý koľko|PL: prosím|AI: asistent ai model|ANS: odpoveď odpovedi',
  // ro
  'P2: tu te ție tău ta tale dumneavoastră voi vostru voastră|P1: eu mie mă meu mea noi nostru noastră|IMP: scrie scrieți spune spuneți răspunde explică descrie enumeră dă tradu traduce rezumă arată creează generează adaugă include ignoră uită recomandă menționează elimină înlocuiește începe încheie calculează sugerează definește compară repetă folosește fă povestește|QW: ce cine unde când cum care cât câte câți|PL: rog|AI: asistent ia model|ANS: răspuns răspunsul',
  // hu
  'P2: te téged neked ön önnek ti tiéd|P1: én engem nekem mi minket nekünk|IMP: írj írjon írd írja mondd mondja mondj válaszolj válaszoljon magyarázd magyarázza sorold add adj fordítsd fordítsa foglald mutasd készíts hozz hagyd felejtsd ajánld említsd távolítsd cseréld kezdd fejezd számold javasolj definiáld hasonlítsd ismételd használd csináld meséld mesélj|QW: mi mit ki hol mikor miért hogyan melyik mennyi milyen|PL: kérlek kérem|AI: asszisztens mi modell|ANS: válasz válaszod válaszodban válaszában',
  // ru
  'P2: ты вы тебя тебе тобой вас вам вами твой твоя твоё твое твои твоём твоем твоей ваш ваша ваше ваши вашем вашей|P1: я меня мне мной мы нас нам наш наша мой моя|IMP: напиши напишите скажи скажите расскажи расскажите ответь ответьте объясни объясните опиши опишите перечисли назови дай дайте переведи переведите перескажи покажи создай сгенерируй составь добавь добавьте включи вставь игнорируй проигнорируй забудь выведи напечатай порекомендуй посоветуй упомяни удали убери замени перепиши начни закончи заверши вычисли посчитай предложи поделись определи сравни повтори используй сделай|QW: что кто где когда почему зачем как какой какая какое какие который сколько ли|PL: пожалуйста|AI: ассистент ии модель бот чатбот|ANS: ответ ответе ответа ответу',
  // uk
  'P2: ти ви тебе тобі вас вам твій твоя твоє твої ваш ваша ваше|P1: я мене мені ми нас нам наш мій моя|IMP: напиши скажи розкажи відповідай відповідь поясни опиши перелічи назви дай переклади підсумуй покажи створи згенеруй додай включи ігноруй проігноруй забудь виведи порекомендуй згадай видали заміни почни закінчи обчисли запропонуй поділися визнач порівняй повтори використай зроби|QW: що хто де коли чому як який яка яке скільки чи|PL: ласка|AI: асистент ші модель|ANS: відповідь відповіді',
  // bg
  'P2: ти вие теб тебе ви твой твоя твоето ваш ваша|P1: аз мен ми ние нас нашия мой|IMP: напиши кажи разкажи отговори обясни опиши изброй дай преведи обобщи покажи създай добави игнорирай забрави препоръчай спомени премахни замени започни завърши изчисли предложи сравни повтори използвай направи|QW: какво кой коя къде кога защо как колко дали|PL: моля|AI: асистент ии модел|ANS: отговор отговора',
  // el
  'P2: εσύ εσείς σου σας σένα εσένα|P1: εγώ μου μας εμείς εμένα|IMP: γράψε γράψτε πες πείτε απάντησε απαντήστε εξήγησε περιέγραψε απαρίθμησε δώσε μετάφρασε συνόψισε δείξε δημιούργησε πρόσθεσε συμπερίλαβε αγνόησε ξέχασε τύπωσε πρότεινε ανάφερε αφαίρεσε αντικατάστησε ξεκίνα τελείωσε υπολόγισε όρισε σύγκρινε επανάλαβε χρησιμοποίησε κάνε|QW: τι ποιος ποια ποιο πού πότε γιατί πώς πόσο πόσα|PL: παρακαλώ|AI: βοηθός μοντέλο|ANS: απάντηση απάντησή',
  // tr
  'P2: sen sana seni senin sende siz size sizi sizin|P1: ben bana beni benim biz bize bizim|IMP: yaz yazın söyle söyleyin anlat anlatın cevapla yanıtla açıkla açıklayın tanımla betimle listele sırala ver verin çevir çevirin özetle özetleyin göster oluştur üret ekle ekleyin dahil unut unutun yazdır öner önerin bahset kaldır sil değiştir başla bitir hesapla paylaş karşılaştır tekrarla kullan yap|QW: ne neden niçin nasıl nerede nereye kim kimin hangi kaç mi mı mu mü|PL: lütfen|AI: asistan yapay model|ANS: cevap cevabın cevabında cevabınızda yanıt yanıtın yanıtında yanıtınızda',
  // ar
  'P2: أنت انت أنتم انتم لك عليك إليك منك|P1: أنا انا نحن لي لنا|IMP: اكتب قل أخبرني اخبرني أجب اجب اشرح صف اذكر عدد أعط اعط أعطني اعطني ترجم لخص اعرض أنشئ انشئ أضف اضف ضمن تجاهل انس اطبع اقترح احذف استبدل ابدأ اختم احسب شارك عرف قارن كرر استخدم اجعل|QW: ما ماذا من أين اين متى لماذا كيف كم هل أي|PL: فضلك رجاء الرجاء يرجى|AI: المساعد مساعد الذكاء|ANS: إجابتك اجابتك ردك جوابك الإجابة الاجابة الرد',
  // fa
  'P2: تو شما برایت|P1: من ما|IMP: بنویس بگو پاسخ جواب توضیح شرح توصیف فهرست بده ترجمه خلاصه نشان بساز اضافه نادیده فراموش چاپ پیشنهاد ذکر حذف جایگزین شروع محاسبه مقایسه تکرار استفاده بکن کن|QW: چه چی کی کجا چرا چطور چگونه کدام چند آیا|PL: لطفا لطفاً|AI: دستیار هوش|ANS: پاسخت جوابت',
  // he
  'P2: אתה את אתם לך שלך אותך|P1: אני אנחנו לי שלי שלנו|IMP: כתוב כתבי תכתוב אמור ספר ספרי ענה עני הסבר תאר פרט מנה תן תני תרגם סכם הראה צור הוסף כלול התעלם שכח הדפס המלץ הזכר הסר החלף התחל סיים חשב הצע שתף הגדר השווה חזור השתמש עשה|QW: מה מי איפה מתי למה מדוע איך כיצד איזה איזו כמה האם|PL: בבקשה|AI: עוזר בינה|ANS: תשובה בתשובתך התשובה',
  // hi
  'P2: आप तुम तू आपका आपके आपकी तुम्हारा तुम्हारे तुम्हारी आपको तुम्हें|P1: मैं मुझे मेरा मेरे मेरी हम हमें हमारा हमारे|IMP: लिखो लिखिए लिखें बताओ बताइए बताएं बताएँ दो दीजिए दें समझाओ समझाइए समझाएं वर्णन सूची अनुवाद सारांश दिखाओ दिखाइए बनाओ बनाइए जोड़ो जोड़ें जोड़िए शामिल अनदेखा भूलो भूल सुझाव हटाओ बदलो शुरू खत्म गणना साझा तुलना दोहराओ उपयोग करो कीजिए करें करिए सुनाओ सुनाइए|QW: क्या कौन कहाँ कहां कब क्यों कैसे कौनसा कितना कितने|PL: कृपया|AI: सहायक एआई|ANS: उत्तर जवाब',
  // bn
  'P2: আপনি তুমি আপনার তোমার|P1: আমি আমার আমরা|IMP: লিখুন লেখো বলুন বলো ব্যাখ্যা বর্ণনা তালিকা দিন দাও অনুবাদ সারাংশ দেখান তৈরি যোগ উপেক্ষা করুন করো|QW: কী কি কে কোথায় কখন কেন কীভাবে কোন কত|PL: অনুগ্রহ দয়া|AI: সহকারী|ANS: উত্তর',
  // id / ms
  'P2: kamu anda engkau kau awak kalian|P1: saya aku kami kita|IMP: tulis tuliskan katakan ceritakan jawab jawablah jelaskan jelaskanlah gambarkan sebutkan berikan beri terjemahkan ringkas ringkaskan rangkum tunjukkan buat buatlah hasilkan tambahkan sertakan abaikan lupakan cetak rekomendasikan sarankan hapus ganti mulai mulailah akhiri hitung bagikan definisikan bandingkan ulangi gunakan lakukan|QW: apa siapa mana kapan mengapa kenapa bagaimana berapa apakah bila|PL: tolong mohon silakan sila|AI: asisten ai model|ANS: jawaban jawabanmu respons balasan',
  // vi
  'P2: bạn|P1: tôi mình chúng|IMP: hãy viết nói kể trả giải mô liệt dịch tóm hiển tạo thêm bỏ quên đề gợi xóa thay tính chia so lặp dùng làm|QW: gì ai đâu sao nào nhiêu|PL: xin ơn|AI: ai trợ|ANS: lời',
  // tl
  'P2: ikaw ka mo iyong inyo kayo|P1: ako ko akin kami tayo|IMP: isulat sabihin sagutin ipaliwanag ilarawan ilista ibigay isalin ibuod ipakita gumawa idagdag isama huwag kalimutan balewalain|QW: ano sino saan kailan bakit paano alin ilan|PL: pakiusap paki po|AI: ai katulong|ANS: sagot',
  // sw
  'P2: wewe yako wako wenu nyinyi|P1: mimi yangu sisi yetu|IMP: andika sema niambie eleza elezea jibu orodhesha toa nipe tafsiri fupisha onyesha unda tengeneza ongeza jumuisha puuza sahau pendekeza ondoa badilisha anza maliza hesabu shiriki linganisha rudia tumia fanya|QW: nini nani wapi lini kwanini vipi gani ngapi je|PL: tafadhali|AI: msaidizi|ANS: jibu',
  // ko (whole words)
  'P2: 당신 당신은 당신의 당신이 너 너는 네가 너의 귀하 귀하의 여러분|P1: 나는 내가 저는 제가 저희 우리 우리는 나의 저의|QW: 무엇 뭐 누구 어디 언제 왜 어떻게 어떤 어느 몇 얼마|PL: 제발|ANS: 답변 응답 대답 답',
];
// Substrings (scripts written without spaces, and Korean endings), checked only in segments that
// contain such characters.
const CLOSED_INLINE_SUB: readonly string[] = [
  // zh (simplified, traditional)
  'P2: 你 您|P1: 我|IMP: 写 寫 告诉 告訴 回答 解释 解釋 描述 列出 给我 給我 翻译 翻譯 总结 總結 概括 显示 顯示 创建 創建 生成 添加 加上 包含 忽略 忘记 忘記 输出 輸出 打印 推荐 推薦 删除 刪除 替换 替換 计算 計算 建议 建議 比较 比較 重复 重複 讲 講|QW: 什么 什麼 谁 誰 哪里 哪裡 为什么 為什麼 怎么 怎麼 怎样 如何 哪个 多少 吗 嗎|PL: 请 請|AI: 助手 人工智能 ai|ANS: 回答 回复 回覆 答案 答复',
  // ja
  'P2: あなた きみ お前|P1: 私 わたし 僕 俺 我々|IMP: 書いて 教えて 答えて 説明して 述べて 挙げて 列挙 翻訳 要約 まとめて 見せて 作成 作って 生成 追加 加えて 含めて 無視 忘れて 出力 表示 おすすめ 削除 置き換え 始めて 計算 提案 比較 繰り返 使って|QW: 何 なに なぜ どうして どこ いつ 誰 だれ どう どの どれ いくつ|PL: ください 下さい お願い|AI: アシスタント 人工知能|ANS: 回答 返答 答え 返信',
  // ko (endings and stems inside words)
  'P2: 당신|IMP: 써주 써 줘 주세요 주십시오 작성 알려 말해 답해 설명 묘사 나열 열거 번역 요약 보여 만들어 생성 추가 포함 무시 잊어 출력 추천 언급 삭제 바꿔 대체 시작 끝내 계산 제안 공유 정의 비교 반복 사용 하세요 하십시오 해라|QW: 무엇 누구 어디 언제 어떻게 얼마 인가요 일까요 습니까 나요|PL: 부탁|AI: 어시스턴트 인공지능|ANS: 답변 응답',
  // th
  'P2: คุณ เธอ ท่าน|P1: ฉัน ผม เรา|IMP: เขียน บอก ตอบ อธิบาย บรรยาย ระบุ แปล สรุป แสดง สร้าง เพิ่ม ใส่ ละเว้น เพิกเฉย ลืม พิมพ์ แนะนำ ลบ แทนที่ เริ่ม คำนวณ เปรียบเทียบ ทำซ้ำ|QW: อะไร ใคร ที่ไหน เมื่อไร เมื่อไหร่ ทำไม อย่างไร ยังไง ไหม หรือไม่|PL: กรุณา โปรด ช่วย|AI: ผู้ช่วย|ANS: คำตอบ',
];
function parseClosed(lines: readonly string[]): Array<[string, ClosedClass]> {
  const out: Array<[string, ClosedClass]> = [];
  for (const line of lines) {
    for (const part of line.split('|')) {
      const c = part.indexOf(':');
      const cls = part.slice(0, c).trim() as ClosedClass;
      if (!CLOSED_CLASSES.includes(cls)) throw new Error(`lexicon.ts closed classes: unknown class in "${part.slice(0, 20)}"`);
      for (const w of part.slice(c + 1).trim().split(/\s+/)) if (w !== '') out.push([w.normalize('NFKC').toLowerCase(), cls]);
    }
  }
  return out;
}
/** Closed-class words (whole tokens) and substrings (scripts without spaces, Korean endings), with their class. */
export const CLOSED_WORDS: ReadonlyArray<readonly [string, ClosedClass]> = [...parseClosed(CLOSED_INLINE), ...closedWords];
export const CLOSED_SUBS: ReadonlyArray<readonly [string, ClosedClass]> = [...parseClosed(CLOSED_INLINE_SUB), ...closedSubs];

// Four closed classes are concepts too (they survive the training script's cipher view): the
// assistant named, the reader addressed, a request made, the answer referred to.
const CLOSED_CONCEPTS: Readonly<Partial<Record<ClosedClass, number>>> = { AI: CONCEPTS.length, P2: CONCEPTS.length + 1, IMP: CONCEPTS.length + 2, ANS: CONCEPTS.length + 3 };
/** Names of every concept bit: the concepts, then AI, P2, IMP, ANS. */
export const CONCEPT_NAMES: readonly string[] = [...CONCEPTS, 'AI', 'P2', 'IMP', 'ANS'];
for (const [w, c] of CLOSED_WORDS) { const b = CLOSED_CONCEPTS[c]; if (b !== undefined) WORDS_BUILDER.add(w, 1 << b, false); }
for (const [w, c] of CLOSED_SUBS) { const b = CLOSED_CONCEPTS[c]; if (b !== undefined && w.length >= 2) SUBS_BUILDER.add(w, 1 << b, false); }
/** Concept bits (CONCEPTS order) by word and stem. */
const WORDS = new Trie(WORDS_BUILDER);
/** Concept bits by substring (zh, ja, ko, th, lo, km, my). */
const SUBS = new Trie(SUBS_BUILDER);

/** Whether a UTF-16 unit belongs to a script written without spaces (or Korean), where substrings are walked. */
export function isNoSpaceScript(c: number): boolean {
  return (c >= 0x0e00 && c < 0x10a0) || (c >= 0x1780 && c < 0x1800) || (c >= 0x3040 && c < 0xa000) || (c >= 0xac00 && c < 0xd7b0) || (c >= 0xf900 && c < 0xfb00);
}

/**
 * Whether text[a, b) (normalised, one token), read forwards or backwards, is a form of the lexicon: a
 * whole word, or a word that starts with a stem. Exact, no typo tolerance. segments.ts reads backwards
 * text with it.
 */
export function isConceptWord(text: string, a: number, b: number, backwards = false): boolean {
  // Backwards, a stem must cover all but the last three letters of the token: with the stems of 122
  // languages, a short one starts many a word read backwards by chance ("slamein" is "niemals").
  const minStem = backwards ? Math.max(MIN_STEM, b - a - 3) : MIN_STEM;
  let n = 0;
  for (let k = 0; k < b - a; k++) {
    n = WORDS.child(n, text.charCodeAt(backwards ? b - 1 - k : a + k));
    if (n < 0) return false;
    if (k + 1 >= minStem && WORDS.stem(n) !== 0) return true;
  }
  return WORDS.word(n) !== 0;
}

/**
 * How many positions of text[a, b) start a substring form of the lexicon (the scripts written without
 * spaces: Chinese, Japanese, Thai...), reading the span forwards or backwards. segments.ts compares the
 * two to find such text written backwards. At most MAX_SUB steps a position: linear in b - a.
 */
export function substringFormCount(text: string, a: number, b: number, backwards: boolean): number {
  let count = 0;
  for (let s = 0; s < b - a; s++) {
    let m = 0;
    for (let k = s; k < b - a && k - s < MAX_SUB; k++) {
      m = SUBS.child(m, text.charCodeAt(backwards ? b - 1 - k : a + k));
      if (m < 0) break;
      if (SUBS.word(m) !== 0) { count++; break; }
    }
  }
  return count;
}

/** Where concepts occur in a text: hit k is at character pos[k] (ascending) with concept bits bits[k]. */
export interface ConceptHits { readonly count: number; readonly pos: Int32Array; readonly bits: Int32Array }

/**
 * Concept hits of `text` (tokens as tokenSpans found them): one per token that matches a word or stem,
 * at the token's start, and one per substring match (scripts without spaces), at its start. Linear: each
 * token is walked once in the word trie, and each character of a no-space script at most MAX_SUB steps
 * in the substring trie.
 */
export function conceptHits(text: string, toks: TokenSpans): ConceptHits {
  const hits = new IntPairs(64);
  const push = (p: number, b: number): void => hits.push(p, b);
  const walk = (a: number, b: number): number => {
    let n = 0, bits = 0;
    for (let i = a; i < b; i++) {
      n = WORDS.child(n, text.charCodeAt(i));
      if (n < 0) return bits;
      if (i + 1 - a >= MIN_STEM) bits |= WORDS.stem(n);
    }
    return bits | WORDS.word(n);
  };
  // The rest of a token, text[i, b), walked exactly from node n; only forms of FUZZY_MIN_FORM+ characters count.
  // Fuzzy walks are bounded per text (FUZZY_STEPS_PER_CHAR), so crafted tokens cannot make them quadratic.
  let fuzzySteps = FUZZY_STEPS_PER_CHAR * text.length + 4096;
  const rest = (n: number, i: number, b: number): number => {
    let bits = 0;
    for (; i < b; i++) {
      fuzzySteps--;
      n = WORDS.child(n, text.charCodeAt(i));
      if (n < 0) return bits;
      if (WORDS.depth(n) >= FUZZY_MIN_FORM) bits |= WORDS.stem(n);
    }
    return WORDS.depth(n) >= FUZZY_MIN_FORM ? bits | WORDS.word(n) : bits;
  };
  // One typo inside the token: a letter dropped, added, replaced, or two neighbours swapped, not in the
  // first two letters and never a letter dropped or added at the very end (where words of one language
  // differ from another's by their endings: "report" is not a typo of "reporte").
  const fuzzy = (a: number, b: number): number => {
    let n = 0, bits = 0;
    for (let i = a; i < b - 1 && n >= 0 && fuzzySteps > 0; i++) {
      if (i - a >= FUZZY_FROM) {
        const c = text.charCodeAt(i);
        bits |= rest(n, i + 1, b); // an extra letter in the token
        // A replaced or missing letter is looked for under nodes of few children only (deep in a
        // word): under a busy node near the root every child is a guess, and costs a walk.
        if (WORDS.fanout(n) <= FUZZY_MAX_FANOUT) for (let k = WORDS.firstChild(n), e = k + WORDS.fanout(n); k < e; k++) {
          if (fuzzySteps <= 0) break;
          if (WORDS.unitTo(k) !== c) bits |= rest(k, i + 1, b); // a letter replaced
          bits |= rest(k, i, b); // a letter missing from the token
        }
        if (i + 1 < b) { const k1 = WORDS.child(n, text.charCodeAt(i + 1)); if (k1 >= 0) { const k2 = WORDS.child(k1, c); if (k2 >= 0) bits |= rest(k2, i + 2, b); } } // two swapped
      }
      n = WORDS.child(n, text.charCodeAt(i));
    }
    return bits;
  };
  const subAt = (i: number, b: number): number => {
    if (!isNoSpaceScript(text.charCodeAt(i))) return 0;
    let m = 0, sb = 0;
    for (let j = i; j < b && j - i < MAX_SUB; j++) {
      m = SUBS.child(m, text.charCodeAt(j));
      if (m < 0) break;
      sb |= SUBS.word(m);
    }
    return sb;
  };
  const hasSubs = SUBS.size > 1;
  for (let k = 0; k < toks.count; k++) {
    const a = toks.start[k]!, b = toks.end[k]!;
    let bits = walk(a, b);
    const c0 = text.charCodeAt(a);
    // Arabic conjunctions glued to the next word (segments.ts strips them too).
    if (bits === 0 && b - a > 2 && (c0 === 0x648 || c0 === 0x641)) bits = walk(a + 1, b);
    // Misspelt on purpose or by haste ("insturctions", "igonre"): a long alphabetic token that is no
    // form may be one typo away from one (Latin, Greek, Cyrillic, Armenian; bounded walks: linear in the text).
    if (bits === 0 && fuzzySteps > 0 && b - a >= FUZZY_MIN_TOKEN && b - a <= FUZZY_MAX_TOKEN && c0 >= 0x61 && c0 < 0x590) bits = fuzzy(a, b);
    if (hasSubs) bits |= subAt(a, b);
    if (bits !== 0) push(a, bits);
    if (hasSubs) for (let i = a + 1; i < b; i++) { const sb = subAt(i, b); if (sb !== 0) push(i, sb); }
  }
  lastFuzzySteps = FUZZY_STEPS_PER_CHAR * text.length + 4096 - fuzzySteps;
  return { count: hits.count, pos: hits.first, bits: hits.second };
}
/** Fuzzy trie steps the last conceptHits call took (for tests and measurement). */
export let lastFuzzySteps = 0;

/** OR of the concept bits of the hits in [start, end) (binary search, then the hits inside). */
export function conceptsIn(h: ConceptHits, start: number, end: number): number {
  let lo = 0, hi = h.count;
  while (lo < hi) { const m = (lo + hi) >> 1; if (h.pos[m]! < start) lo = m + 1; else hi = m; }
  let b = 0;
  for (let k = lo; k < h.count && h.pos[k]! < end; k++) b |= h.bits[k]!;
  return b;
}

const FEATURE_CACHE = new Map<number, readonly string[]>();
const MAX_FEATURE_CACHE = 4096;

/**
 * Feature strings of a set of concepts (bits in CONCEPTS order), `prefix` naming the unit kind: each
 * concept, each pair of concepts, and how many there are. Frozen and cached per (prefix, bits), so the
 * classifier caches their indices by identity.
 */
export function conceptFeatures(prefix: 'w' | 's', bits: number): readonly string[] {
  const key = bits * 2 + (prefix === 'w' ? 1 : 0);
  let f = FEATURE_CACHE.get(key);
  if (f !== undefined) return f;
  const on: string[] = [];
  if (bits === 0) { f = Object.freeze([]); FEATURE_CACHE.set(key, f); return f; }
  for (let i = 0; i < CONCEPT_NAMES.length; i++) if (bits & (1 << i)) on.push(CONCEPT_NAMES[i]!);
  const out: string[] = [`${prefix}kn:${Math.min(on.length, 4)}`];
  for (let i = 0; i < on.length; i++) {
    out.push(`${prefix}k:${on[i]}`);
    for (let j = i + 1; j < on.length; j++) out.push(`${prefix}kk:${on[i]}+${on[j]}`);
  }
  f = Object.freeze(out);
  // Bounded: crafted text could produce many distinct concept sets in a long-lived process.
  if (FEATURE_CACHE.size >= MAX_FEATURE_CACHE) FEATURE_CACHE.clear();
  FEATURE_CACHE.set(key, f);
  return f;
}
