/** Strict argument parsing: unknown flags are an error, never silently ignored (STYLE.md anti-patterns). */
import { parseArgs as nodeParseArgs } from 'node:util';
import { SiosError } from '../errors.ts';

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface CommandSpec {
  help: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  run(args: ParsedArgs): Promise<number>;
}

export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  try {
    const r = nodeParseArgs({ args: argv, options: spec.options, allowPositionals: true, strict: true });
    return { values: r.values as ParsedArgs['values'], positionals: r.positionals };
  } catch (cause) {
    throw new SiosError('ERR_INPUT', `${(cause as Error).message}. See --help`, { cause });
  }
}

export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function need(args: ParsedArgs, name: string): string {
  const v = str(args, name);
  if (v === undefined || v === '') throw new SiosError('ERR_INPUT', `--${name} is required. See --help`);
  return v;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
