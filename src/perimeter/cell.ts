/**
 * Sandboxed cells: a skill that needs the outside (or runs untrusted code) runs as a separate
 * process in a bubblewrap cell.
 *
 * What a cell gets:
 * - new user, PID, IPC, UTS, cgroup and network namespaces (`--unshare-all --unshare-user`): the
 *   network namespace has no interface but a downed `lo`, so there is no route anywhere; further
 *   user namespaces are disabled inside (`--disable-userns`);
 * - an empty root with read-only binds of only the named paths, a fresh /proc for its own PID
 *   namespace, a minimal /dev, a private size-bounded tmpfs at /tmp;
 * - no environment but what is set here (`--clearenv`), its own session (`--new-session`, no
 *   TIOCSTI into the operator's terminal), killed with SIOS (`--die-with-parent`);
 * - the seccomp filter of seccomp.ts (x86-64);
 * - rlimits via prlimit(1): CPU seconds, data segment (memory), processes, file size, open files;
 *   a wall-clock kill of the whole process group; bounded stdout/stderr capture;
 * - when SIOS runs as root, the cell runs under a separate unprivileged host uid (65534 by
 *   default), so even an escape lands as nobody, and RLIMIT_NPROC counts against that uid only;
 * - its only way out: the tenant's egress gateway, through a per-cell Unix socket bound read-only
 *   at /run/sios/egress.sock (the socket path is the cell's identity at the gateway).
 *
 * Fail closed: if bubblewrap or user namespaces are unavailable, run() throws ERR_SANDBOX with the
 * fix, unless the operator opted this tenant out (`optOut`), in which case the skill runs as a
 * plain process under the same rlimits, and every cell-start event says `sandbox: 'none'` with the
 * operator and the reason. An opted-out process is NOT network-isolated.
 */
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SiosError } from '../errors.ts';
import type { AuditSink, CellEndEvent, CellEndReason, CellLimitsRecord } from './events.ts';
import type { EgressGateway } from './gateway.ts';
import { cellSeccompFilter } from './seccomp.ts';

export type CellLimits = CellLimitsRecord;

export const DEFAULT_CELL_LIMITS: CellLimits = Object.freeze({
  cpuSeconds: 30,
  memoryBytes: 1024 * 1024 * 1024,
  processes: 64,
  fileSizeBytes: 64 * 1024 * 1024,
  openFiles: 256,
  wallClockMs: 60_000,
  outputBytes: 4 * 1024 * 1024,
  tmpBytes: 64 * 1024 * 1024,
});

/** Path of the gateway socket inside every cell. */
export const CELL_EGRESS_SOCKET = '/run/sios/egress.sock';

export interface CellSpec {
  readonly skill: string;
  /** argv[0] is an absolute path inside the cell (it must be inside a read-only bind). */
  readonly argv: readonly string[];
  /** Host paths bound read-only at the same path, or `{host, cell}` to bind elsewhere. */
  readonly readOnly?: ReadonlyArray<string | { readonly host: string; readonly cell: string }>;
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: Uint8Array;
  /** The tenant's gateway: a per-cell socket is opened on it and bound into the cell. */
  readonly gateway?: EgressGateway;
  readonly limits?: Partial<CellLimits>;
}

export interface CellResult {
  readonly cell: string;
  readonly reason: CellEndReason;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly durationMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
}

export interface CellRunnerOptions {
  readonly tenant: string;
  readonly audit: AuditSink;
  /**
   * Operator's explicit opt-out of the sandbox for this tenant (recorded in every cell-start
   * event). Without it, a machine without bubblewrap/user namespaces refuses to run cells.
   */
  readonly optOut?: { readonly operator: string; readonly reason: string };
  /** Host uid/gid the cell runs under. Default: 65534 (nobody) when SIOS runs as root, else SIOS's own. */
  readonly hostUser?: { readonly uid: number; readonly gid: number };
  /** Directory for per-cell private directories (sockets). Default: <tmpdir>/sios-cells. */
  readonly workRoot?: string;
  readonly bwrapPath?: string;
}

const RUNNER_OPTIONS = ['tenant', 'audit', 'optOut', 'hostUser', 'workRoot', 'bwrapPath'];
const LIMIT_KEYS = Object.keys(DEFAULT_CELL_LIMITS);
/**
 * The cell's CPU time comes from a shell inside the cell that runs the skill and then prints the
 * `times` builtin (its children's rusage) on fd 4, which the skill does not inherit (4>&-).
 * Why inside: bwrap's PID-namespace init is never reaped by the outer bwrap, so rusage does not
 * reach any process outside. Caveat: a hostile skill running as the same in-cell uid can kill
 * this shell or write to its fd 4 through /proc, so the CPU figure is the cell's own report
 * (CPU is still bounded by RLIMIT_CPU, and wall-clock, exit status and output sizes are measured
 * outside the cell).
 */
const REPORTER = '"$@" 4>&-; s=$?; times >&4; exit $s';
const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS' };

export interface SandboxStatus { readonly ok: boolean; readonly detail: string }

let sandboxCache: Map<string, SandboxStatus> | undefined;

/**
 * When SIOS runs as root, each cell gets its own unprivileged host uid from a private range, so
 * RLIMIT_NPROC counts one cell's processes only: one tenant's cells (or zombies a non-reaping
 * PID 1 leaves behind) can never exhaust another cell's process budget.
 */
const CELL_UID_BASE = 200_000;
const CELL_UID_SPAN = 60_000;
let cellUidNext = 0;
function nextCellUser(): { uid: number; gid: number } {
  const uid = CELL_UID_BASE + (cellUidNext++ % CELL_UID_SPAN);
  return { uid, gid: uid };
}

function defaultHostUser(): { uid: number; gid: number } {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return uid === 0 ? { uid: 65534, gid: 65534 } : { uid, gid };
}

/** Merged-/usr symlinks, so binaries under a bound /usr find /lib64/ld-linux*.so. */
function usrSymlinks(): string[] {
  const out: string[] = [];
  for (const d of ['bin', 'sbin', 'lib', 'lib64', 'lib32']) {
    try { if (lstatSync(`/${d}`).isSymbolicLink()) out.push('--symlink', `usr/${d}`, `/${d}`); } catch { /* absent */ }
  }
  return out;
}

/**
 * Is bubblewrap usable here (binary present, user namespaces allowed)? Runs a real empty cell
 * once per (path, uid) and caches the answer. `detail` says how to fix a failure.
 */
export function checkSandbox(bwrapPath = '/usr/bin/bwrap', user = defaultHostUser()): SandboxStatus {
  const key = `${bwrapPath}:${user.uid}`;
  sandboxCache ??= new Map();
  const cached = sandboxCache.get(key);
  if (cached) return cached;
  let st: SandboxStatus;
  if (!existsSync(bwrapPath)) {
    st = { ok: false, detail: `bubblewrap not found at ${bwrapPath}: install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap), or have the operator opt the tenant out of sandboxing (recorded)` };
  } else {
    try {
      const self = (process.getuid?.() ?? 0) === user.uid;
      execFileSync(bwrapPath, ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--clearenv',
        '--ro-bind', '/usr', '/usr', ...usrSymlinks(), '--proc', '/proc', '--dev', '/dev', '--', '/usr/bin/true'],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000, ...(self ? {} : { uid: user.uid, gid: user.gid }) });
      st = { ok: true, detail: `bubblewrap works at ${bwrapPath} (user, pid, ipc, uts, cgroup and network namespaces) as uid ${user.uid}` };
    } catch (e) {
      const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim().slice(0, 300);
      st = {
        ok: false,
        detail: `bubblewrap cannot create a cell as uid ${user.uid} (${stderr || 'no diagnostic'}): enable unprivileged user namespaces ` +
          '(sysctl -w user.max_user_namespaces=15000; Debian: sysctl -w kernel.unprivileged_userns_clone=1; Ubuntu 24.04+: ' +
          'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 or add an AppArmor profile for bwrap), ' +
          'or have the operator opt the tenant out of sandboxing (recorded)',
      };
    }
  }
  sandboxCache.set(key, st);
  return st;
}

function lddBinds(exe: string): Array<{ host: string; cell: string }> {
  const binds: Array<{ host: string; cell: string }> = [];
  const out = execFileSync('ldd', [exe], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) binds.push({ host: realpathSync(m[1]), cell: m[1] });
  }
  return binds;
}

let nodeRuntimeCache: { program: string; readOnly: Array<{ host: string; cell: string }> } | undefined;

/**
 * What a node skill needs in its cell: this node binary (bound at /sios/bin/node) and the shared
 * libraries it links (from ldd), nothing else of the host.
 */
export function nodeRuntime(): { program: string; readOnly: Array<{ host: string; cell: string }> } {
  if (nodeRuntimeCache) return nodeRuntimeCache;
  const exe = realpathSync(process.execPath);
  nodeRuntimeCache = { program: '/sios/bin/node', readOnly: [{ host: exe, cell: '/sios/bin/node' }, ...lddBinds(exe)] };
  return nodeRuntimeCache;
}

let reporterCache: Array<{ host: string; cell: string }> | undefined;

/** The in-cell init shell (/bin/sh, bound at /sios/bin/sh) that reports the cell's CPU time. */
function reporterBinds(): Array<{ host: string; cell: string }> {
  if (reporterCache) return reporterCache;
  const sh = realpathSync('/bin/sh');
  reporterCache = [{ host: sh, cell: '/sios/bin/sh' }, ...lddBinds(sh)];
  return reporterCache;
}

/** The cell's host user must be able to reach its socket directory (bwrap binds it as that user). */
function assertTraversable(dir: string, user: { uid: number; gid: number }): void {
  let p = realpathSync(dir);
  for (;;) {
    const st = statSync(p);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      throw new SiosError('ERR_SANDBOX', `cell work directory ${dir} is not reachable by the cell user (uid ${user.uid}): ${p} lacks search permission; use a workRoot whose parent directories are at least mode 0711`);
    }
    if (p === '/') return;
    p = dirname(p);
  }
}

function checkPathArg(p: string, what: string): string {
  if (!isAbsolute(p) || normalize(p) !== p || p.includes('\0')) throw new SiosError('ERR_INPUT', `${what} "${p}" must be an absolute, normalised path`);
  return p;
}

export class CellRunner {
  readonly tenant: string;
  private readonly audit: AuditSink;
  private readonly optOut: { readonly operator: string; readonly reason: string } | undefined;
  private readonly user: { readonly uid: number; readonly gid: number };
  private readonly perCellUser: boolean;
  private readonly workRoot: string;
  private readonly bwrap: string;
  private readonly seccomp: Uint8Array | undefined;

  constructor(options: CellRunnerOptions) {
    for (const k of Object.keys(options)) {
      if (!RUNNER_OPTIONS.includes(k)) throw new SiosError('ERR_INPUT', `CellRunner: unknown option "${k}"; known options are ${RUNNER_OPTIONS.join(', ')}`);
    }
    if (typeof options.audit !== 'function') throw new SiosError('ERR_INPUT', 'CellRunner: an audit callback is required');
    if (options.optOut && (!options.optOut.operator || !options.optOut.reason)) {
      throw new SiosError('ERR_INPUT', 'CellRunner: a sandbox opt-out must name the operator and the reason (both are recorded)');
    }
    this.tenant = options.tenant;
    this.audit = options.audit;
    this.optOut = options.optOut;
    this.user = options.hostUser ?? defaultHostUser();
    this.perCellUser = options.hostUser === undefined && (process.getuid?.() ?? 1) === 0;
    this.workRoot = options.workRoot ?? join(tmpdir(), 'sios-cells');
    this.bwrap = options.bwrapPath ?? '/usr/bin/bwrap';
    this.seccomp = cellSeccompFilter();
  }

  async run(spec: CellSpec): Promise<CellResult> {
    const limits = { ...DEFAULT_CELL_LIMITS, ...(spec.limits ?? {}) };
    for (const k of Object.keys(spec.limits ?? {})) if (!LIMIT_KEYS.includes(k)) throw new SiosError('ERR_INPUT', `cell limit "${k}" is unknown; known limits are ${LIMIT_KEYS.join(', ')}`);
    for (const [k, v] of Object.entries(limits)) if (!Number.isSafeInteger(v) || v < 1) throw new SiosError('ERR_INPUT', `cell limit ${k} must be a positive integer`);
    if (spec.argv.length === 0) throw new SiosError('ERR_INPUT', 'cell argv must name a program');
    checkPathArg(spec.argv[0] as string, 'cell program');
    const envEntries = Object.entries(spec.env ?? {});
    for (const [k, v] of envEntries) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || v.includes('\0')) throw new SiosError('ERR_INPUT', `cell environment variable "${k}" has an invalid name or value`);
    }
    const binds = (spec.readOnly ?? []).map((b) => typeof b === 'string' ? { host: b, cell: b } : b);
    for (const b of binds) { checkPathArg(b.host, 'read-only host path'); checkPathArg(b.cell, 'read-only cell path'); }

    const sandboxed = !this.optOut;
    if (sandboxed) {
      const st = checkSandbox(this.bwrap, this.user);
      if (!st.ok) throw new SiosError('ERR_SANDBOX', `refusing to run skill ${spec.skill} for tenant ${this.tenant} without a sandbox: ${st.detail}`);
    }

    const cell = `cell-${randomBytes(8).toString('hex')}`;
    const asRoot = (process.getuid?.() ?? 0) === 0;
    const user = this.perCellUser ? nextCellUser() : this.user;
    mkdirSync(this.workRoot, { recursive: true, mode: 0o711 });
    if (asRoot && user.uid !== 0) assertTraversable(this.workRoot, user);
    const dir = mkdtempSync(join(this.workRoot, `${cell}-`));
    chmodSync(dir, 0o700);
    if (asRoot) chownSync(dir, user.uid, user.gid);
    let socketPath: string | undefined;
    try {
      if (spec.gateway) {
        socketPath = await spec.gateway.listenUnix({ cell, skill: spec.skill, path: join(dir, 'egress.sock'), ...(asRoot ? { owner: user } : {}) });
      }
      // Sign-before-run: the start is sealed before the process exists.
      try {
        await this.audit({
          type: 'cell-start', tenant: this.tenant, cell, skill: spec.skill, sandbox: sandboxed ? 'bwrap' : 'none',
          optOut: this.optOut ? { operator: this.optOut.operator, reason: this.optOut.reason } : null,
          seccomp: sandboxed && this.seccomp !== undefined, egress: socketPath !== undefined,
          program: spec.argv[0] as string, readOnly: binds.map((b) => b.cell), limits, time: new Date().toISOString(),
        });
      } catch (cause) {
        throw new SiosError('ERR_SANDBOX', `the cell-start record for skill ${spec.skill} could not be sealed, so the cell was not started (fail closed); check the ledger`, { cause });
      }
      const result = await this.spawnCell(cell, spec, binds, envEntries, limits, sandboxed, socketPath, dir, user);
      const end: CellEndEvent = {
        type: 'cell-end', tenant: this.tenant, cell, skill: spec.skill, reason: result.reason, exitCode: result.exitCode, signal: result.signal,
        durationMs: result.durationMs, cpuUserMs: result.cpuUserMs, cpuSystemMs: result.cpuSystemMs,
        stdoutBytes: result.stdout.length, stderrBytes: result.stderr.length, time: new Date().toISOString(),
      };
      try { await this.audit(end); } catch (cause) {
        throw new SiosError('ERR_IN_DOUBT', `cell ${cell} ran but its end record could not be sealed; treat its effects as in doubt and check the ledger`, { cause, details: { cell } });
      }
      return result;
    } finally {
      if (spec.gateway) await spec.gateway.closeCell(cell);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private spawnCell(
    cell: string, spec: CellSpec, binds: Array<{ host: string; cell: string }>, env: Array<[string, string]>,
    limits: CellLimits, sandboxed: boolean, socketPath: string | undefined, dir: string,
    user: { readonly uid: number; readonly gid: number },
  ): Promise<CellResult> {
    const prlimit = [
      `--cpu=${limits.cpuSeconds}`, `--data=${limits.memoryBytes}`, `--nproc=${limits.processes}`,
      `--fsize=${limits.fileSizeBytes}`, `--nofile=${limits.openFiles}`, `--core=0`,
    ];
    const cellEnv: Array<[string, string]> = [['PATH', '/usr/bin:/bin'], ['HOME', '/tmp'], ['TMPDIR', '/tmp'], ['LANG', 'C.UTF-8']];
    let argv: string[];
    let useSeccomp = false;
    if (sandboxed) {
      const args = ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--clearenv',
        '--hostname', 'sios-cell', '--proc', '/proc', '--dev', '/dev', '--size', String(limits.tmpBytes), '--tmpfs', '/tmp'];
      let usr = false;
      const seen = new Set<string>();
      // With /usr bound, /lib, /lib64, /bin are symlinks into it: library binds there are redundant.
      const hasUsr = binds.some((b) => b.cell === '/usr' && b.host === '/usr');
      for (const b of [...binds, ...reporterBinds()]) {
        if (seen.has(b.cell)) continue;
        if (hasUsr && b.cell !== '/usr' && /^\/(usr|lib|lib64|lib32|bin|sbin)\//.test(b.cell) && b.host === realpathSync(b.cell)) continue;
        seen.add(b.cell);
        args.push('--ro-bind', b.host, b.cell);
        if (b.cell === '/usr') usr = true;
      }
      if (usr) args.push(...usrSymlinks());
      if (socketPath) {
        args.push('--dir', '/run/sios', '--ro-bind', socketPath, CELL_EGRESS_SOCKET);
        cellEnv.push(['SIOS_EGRESS_SOCKET', CELL_EGRESS_SOCKET]);
      }
      for (const [k, v] of [...cellEnv, ...env]) args.push('--setenv', k, v);
      args.push('--chdir', '/tmp');
      if (this.seccomp) { args.push('--seccomp', '3'); useSeccomp = true; }
      argv = ['--', this.bwrap, ...args, '--', '/sios/bin/sh', '-c', REPORTER, 'sios-cell', ...spec.argv];
    } else {
      if (socketPath) cellEnv.push(['SIOS_EGRESS_SOCKET', socketPath]);
      argv = ['--', '/bin/sh', '-c', REPORTER, 'sios-cell', ...spec.argv];
    }
    const asRoot = (process.getuid?.() ?? 0) === 0;
    const childEnv: Record<string, string> = Object.fromEntries(sandboxed ? [['PATH', '/usr/bin:/bin']] : [...cellEnv, ...env]);
    const t0 = performance.now();
    return new Promise<CellResult>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn('/usr/bin/prlimit', [...prlimit, ...argv], {
          stdio: ['pipe', 'pipe', 'pipe', useSeccomp ? 'pipe' : 'ignore', 'pipe'],
          detached: true, env: childEnv, cwd: sandboxed ? '/' : dir,
          ...(asRoot ? { uid: user.uid, gid: user.gid } : {}),
        });
      } catch (e) {
        resolve({ cell, reason: 'spawn-error', exitCode: null, signal: null, stdout: new Uint8Array(0), stderr: new TextEncoder().encode(String(e)), durationMs: 0, cpuUserMs: -1, cpuSystemMs: -1 });
        return;
      }
      const out: Buffer[] = [], err: Buffer[] = [], times: Buffer[] = [];
      let outN = 0, errN = 0;
      let reason: CellEndReason | undefined;
      const killAll = (r: CellEndReason): void => {
        reason ??= r;
        try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      };
      const wall = setTimeout(() => killAll('wall-clock'), limits.wallClockMs);
      const take = (arr: Buffer[], which: 'out' | 'err') => (d: Buffer): void => {
        const n = which === 'out' ? outN : errN;
        const room = limits.outputBytes - n;
        if (room > 0) arr.push(d.subarray(0, room));
        if (which === 'out') outN += d.length; else errN += d.length;
        if (d.length > room) killAll('output-limit');
      };
      child.stdout?.on('data', take(out, 'out'));
      child.stderr?.on('data', take(err, 'err'));
      (child.stdio[4] as NodeJS.ReadableStream | null)?.on('data', (d: Buffer) => { if (times.length < 8) times.push(d); });
      child.stdin?.on('error', () => { /* the cell may exit without reading stdin */ });
      child.stdin?.end(spec.stdin ?? new Uint8Array(0));
      if (useSeccomp) {
        const fd3 = child.stdio[3] as import('node:stream').Writable;
        fd3.on('error', () => { /* bwrap failed early; its exit status reports it */ });
        fd3.end(this.seccomp as Uint8Array);
      }
      child.on('error', () => { reason ??= 'spawn-error'; });
      child.on('close', (code, sig) => {
        clearTimeout(wall);
        const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(Buffer.concat(times).toString('latin1'));
        const cpuUserMs = m ? Math.round((Number(m[1]) * 60 + Number(m[2])) * 1000) : -1;
        const cpuSystemMs = m ? Math.round((Number(m[3]) * 60 + Number(m[4])) * 1000) : -1;
        let exitCode: number | null = code;
        let signal: string | null = sig;
        // bwrap (and sh) report a child killed by signal N as exit status 128+N.
        if (code !== null && code > 128 && code < 160) { signal = SIGNALS[code - 128] ?? `SIG${code - 128}`; exitCode = null; }
        resolve({
          cell, reason: reason ?? (signal ? 'signal' : 'exit'), exitCode, signal,
          stdout: new Uint8Array(Buffer.concat(out)), stderr: new Uint8Array(Buffer.concat(err)),
          durationMs: Math.round((performance.now() - t0) * 1000) / 1000, cpuUserMs, cpuSystemMs,
        });
      });
    });
  }
}

/** Run `fn` with a cleared sandbox-availability cache (tests, doctor after an operator fix). */
export function resetSandboxCache(): void {
  sandboxCache = undefined;
}
