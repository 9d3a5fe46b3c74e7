/**
 * Builds data/sentinel/attacks-corpus-bipia-style-selfinstruct.jsonl from the human-written task
 * instructions that the Self-Instruct project published (Wang et al. 2023, github.com/yizhongw/self-instruct,
 * Apache-2.0): its 252 user-oriented instructions (`human_eval/user_oriented_instructions.jsonl`) and its
 * 175 seed tasks (`data/seed_tasks.jsonl`), both at commit 0b26ccaa415992100fa32df62d41b994cf928e23.
 *
 * Why: most attacks of BIPIA and of the held-out sets are plain tasks for an assistant ("analyse the
 * sentiment of…", "rewrite the sentence…", "suggest…"); these are 427 of them written by people, for
 * assistants, across many apps and kinds of task. Training plants each once in a benign host like the
 * other BIPIA-style corpora (see BIPIA_STYLE_PLANTINGS in train-sentinel.ts).
 *
 * Each record becomes one attack: the instruction, and its first instance's input when that is short
 * (at most 160 characters, one line), after a space when the instruction ends with a colon and on the
 * next line otherwise, as such tasks are pasted. The output is deterministic; the source files are
 * checked against the SHA-256 digests below so that the corpus can be rebuilt and audited.
 *
 *   node scripts/import-instructions.ts <user_oriented_instructions.jsonl> <seed_tasks.jsonl>
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

export const SOURCE_SHA256 = {
  user: '81d60a117db495cecedecd9193504fd07c5b5a42f6699ef6b0f9da10fc22f42e',
  seed: '7779004fa198fdf27cf70a159363879d8a26c53329e11b436af17b3941875f48',
} as const;

const MAX_INPUT = 160;

export interface CorpusLine { lang: 'en'; category: string; text: string }

/** The corpus lines of one Self-Instruct JSON Lines file (user-oriented instructions or seed tasks). */
export function instructionLines(jsonl: string, source: 'user' | 'seed', file: string = source): CorpusLine[] {
  const out: CorpusLine[] = [];
  jsonl.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let r: unknown;
    try { r = JSON.parse(line); } catch (e) { throw new Error(`${where}: not JSON (${(e as Error).message})`); }
    if (typeof r !== 'object' || r === null) throw new Error(`${where}: expected an object`);
    const rec = r as { instruction?: unknown; instances?: unknown };
    if (typeof rec.instruction !== 'string' || rec.instruction.trim() === '') throw new Error(`${where}: "instruction" must be a non-empty string`);
    const instruction = rec.instruction.trim();
    const first = Array.isArray(rec.instances) ? (rec.instances[0] as { input?: unknown } | undefined) : undefined;
    const input = typeof first?.input === 'string' ? first.input.trim() : '';
    let text = instruction;
    if (input !== '' && [...input].length <= MAX_INPUT && !input.includes('\n')) text = instruction.endsWith(':') ? `${instruction} ${input}` : `${instruction}\n${input}`;
    out.push({ lang: 'en', category: `self-instruct ${source}`, text });
  });
  return out;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function main(argv: string[]): void {
  if (argv.length !== 2) {
    process.stderr.write('usage: node scripts/import-instructions.ts <user_oriented_instructions.jsonl> <seed_tasks.jsonl>\n  (from github.com/yizhongw/self-instruct at 0b26ccaa415992100fa32df62d41b994cf928e23)\n');
    process.exit(2);
  }
  const [userPath, seedPath] = argv as [string, string];
  const read = (path: string): Buffer => {
    try { return readFileSync(path); } catch (e) {
      process.stderr.write(`import-instructions: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give the two files of yizhongw/self-instruct at 0b26cca\n`);
      return process.exit(1);
    }
  };
  const user = read(userPath), seed = read(seedPath);
  for (const [name, buf, want] of [['user', user, SOURCE_SHA256.user], ['seed', seed, SOURCE_SHA256.seed]] as const) {
    const got = sha256(buf);
    if (got !== want) {
      process.stderr.write(`import-instructions: ${name === 'user' ? userPath : seedPath} has SHA-256 ${got}, not ${want}: take the file from commit 0b26cca of yizhongw/self-instruct\n`);
      process.exit(1);
    }
  }
  const lines = [...instructionLines(user.toString('utf8'), 'user', userPath), ...instructionLines(seed.toString('utf8'), 'seed', seedPath)];
  const out = new URL('../data/sentinel/attacks-corpus-bipia-style-selfinstruct.jsonl', import.meta.url).pathname;
  writeFileSync(out, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  process.stdout.write(`import-instructions: ${lines.length} instructions -> ${out}\n`);
}

if (import.meta.main) main(process.argv.slice(2));
