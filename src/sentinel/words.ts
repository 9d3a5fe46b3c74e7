import { readFileSync } from 'node:fs';

/**
 * Frequent English words beyond the function words segments.ts lists: general usage, plus the words
 * of documents and accounts an agent handles. The decoders that rebuild words use them: respacing
 * (unspaced.ts) and restoring removed vowels (segments.ts).
 */
export const ENGLISH: readonly string[] = (
  'about above across act action actually add address after again against age ago agree all allow almost alone along already also ' +
  'always am among amount another answer any anyone anything appear apply area around ask asked assistant available away back bad bank ' +
  'base be became because become been before began begin behind being believe below best better between big bill both bring build ' +
  'business but buy call called can card care carry case cause change check child choose city claim clear close code come comment ' +
  'company complete confirm contact content continue control copy cost could country course create current customer data date day ' +
  'deal delete describe detail details did different direct directly do document does done down draft during each early easy else ' +
  'email emails end enough enter entire even ever every everything example except fact fall family far fast feel few file files final ' +
  'find first follow following food for force form forward found free friend from full further game gave general get give given go ' +
  'going good got great group grow had hand happen hard has have he head hear help her here high him his hold home hour house how ' +
  'however idea important include information inside instead interest into issue item its just keep key kind know known large last ' +
  'late later lead learn least leave left less let letter level life light like line link list little live local long look lose lot ' +
  'love low made mail main make man manager many matter may mean meeting member message might mind money month more most move much ' +
  'must name need never new news next nice night no note nothing now number off offer office often old once one only open order ' +
  'other others our out output over own page paper part party pass password past pay people per person phone place plan play point ' +
  'policy post power present previous price print private problem process product program provide public put question quickly quite ' +
  'read ready real really reason receive record remember remove report request reset result return reveal right room rule run said ' +
  'same save saw say school secret secure security see seem send sent server service set several share she short should show side ' +
  'simple since site small some someone something soon source speak special start state still stop story student such summary ' +
  'summarize support sure system table take talk task team tell ten term test than thank that their them then there these they ' +
  'thing think those though thought three through time to today together told too took top total toward transfer true try turn two ' +
  'under understand until up update upon us use used user users using value very view visit want was watch water way we website week ' +
  'well went were what whatever when where whether which while who whole why will with within without word words work world would ' +
  'write written wrong year yes yet you your yourself account accounts admin administrator agent approve approved attach bypass ' +
  'click command confidential credentials delete disable disregard download execute forget hidden ignore instruction instructions ' +
  'internal login override permission permissions pretend prior private prompt rules safety settings token tokens tool unlock url'
).split(' ');

/**
 * Words and how often benign English training documents use them (src/sentinel/vocab-en.txt, built
 * by scripts/build-vocab.ts): respacing prefers frequent words ("this is a test", not "thi sis
 * atest"), and so does restoring removed vowels ("prvs" is "previous").
 */
export const VOCABULARY_COUNTS: ReadonlyMap<string, number> = new Map<string, number>();
const COUNTS = VOCABULARY_COUNTS as Map<string, number>;
const VOCAB_FILE = new URL('./vocab-en.txt', import.meta.url);
let vocabText: string;
try {
  vocabText = readFileSync(VOCAB_FILE, 'utf8');
} catch (e) {
  throw new Error(`Sentinel: cannot read ${VOCAB_FILE.pathname} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); it ships with SIOS: restore it from the release or rebuild it with node scripts/build-vocab.ts`);
}
if (vocabText.trim() === '') throw new Error(`Sentinel: ${VOCAB_FILE.pathname} is empty; rebuild it with node scripts/build-vocab.ts`);
for (const line of vocabText.split('\n')) {
  if (line === '') continue;
  const sp = line.indexOf(' ');
  const c = Number(line.slice(sp + 1));
  if (sp < 1 || !Number.isInteger(c) || c < 1) throw new Error(`Sentinel vocab-en.txt: bad line ${JSON.stringify(line)}; rebuild it with node scripts/build-vocab.ts`);
  COUNTS.set(line.slice(0, sp), c);
}
