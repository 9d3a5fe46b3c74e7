/** Shared CLI plumbing: where the data lives, how the passphrase is obtained, output helpers. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SiosError } from '../errors.ts';
import { passphraseProtector } from '../crypto/passphrase.ts';
import type { KeyProtector } from '../crypto/protector.ts';
import { Deployment, type OpenOptions } from '../deployment/deployment.ts';
import { App, type AppOptions } from '../app/app.ts';
import { str, type ParsedArgs } from './args.ts';

export const dataOption = { data: { type: 'string' as const } };
export const passOption = { 'passphrase-file': { type: 'string' as const } };

export function dataDir(args: ParsedArgs): string {
  return path.resolve(str(args, 'data') ?? process.env['SIOS_DATA'] ?? 'sios-data');
}

/** The operator passphrase: --passphrase-file, else $SIOS_PASSPHRASE, else a hidden prompt on a TTY. */
export async function readPassphrase(args: ParsedArgs, prompt = 'Operator passphrase: ', fileOpt = 'passphrase-file', envVar = 'SIOS_PASSPHRASE'): Promise<string> {
  const file = str(args, fileOpt);
  if (file) {
    try {
      return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (cause) {
      throw new SiosError('ERR_INPUT', `cannot read --${fileOpt} ${file}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
    }
  }
  const env = process.env[envVar];
  if (env) return env;
  if (!process.stdin.isTTY) throw new SiosError('ERR_PASSPHRASE', `no passphrase: pass --${fileOpt} FILE or set ${envVar} (stdin is not a terminal, so SIOS cannot ask)`);
  return promptHidden(prompt);
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let s = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (ch: string) => {
      for (const c of ch) {
        if (c === '\r' || c === '\n') { done(); resolve(s); return; }
        if (c === '\u0003') { done(); reject(new SiosError('ERR_PASSPHRASE', 'cancelled')); return; }
        if (c === '\u007f') s = s.slice(0, -1); else s += c;
      }
    };
    const done = () => { stdin.setRawMode(false); stdin.pause(); stdin.off('data', onData); process.stderr.write('\n'); };
    stdin.on('data', onData);
  });
}

export async function protectorFrom(args: ParsedArgs): Promise<KeyProtector & { dispose(): void }> {
  return passphraseProtector(await readPassphrase(args));
}

/** Open the deployment with the operator passphrase (a TPM deployment also unseals with the TPM). */
export async function openDeployment(args: ParsedArgs, opts: OpenOptions = {}): Promise<Deployment> {
  return Deployment.open(dataDir(args), { passphrase: await readPassphrase(args) }, opts);
}

export async function openApp(args: ParsedArgs, opts: AppOptions = {}): Promise<App> {
  return App.open(dataDir(args), { passphrase: await readPassphrase(args) }, opts);
}

export function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

/** A plain text table with aligned columns. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const w = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i] as number)).join('  ').trimEnd();
  return [line(headers), w.map((n) => '─'.repeat(n)).join('  '), ...cells.slice(1).map(line)].join('\n') + '\n';
}
