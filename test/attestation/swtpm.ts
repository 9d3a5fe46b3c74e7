/**
 * Start a real swtpm (TPM 2.0 simulator) for tests: free loopback ports, private state directory,
 * readiness by connecting to the command port, and a stop that is also run at process exit so a
 * failing test never leaves a simulator behind. Used by test/attestation and the CLI integration tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Swtpm {
  /** TCTI string for tpm2-tools and for Tpm2 ({ tcti }). */
  readonly tcti: string;
  readonly port: number;
  readonly stateDir: string;
  /** Stop the simulator (SIGTERM, then SIGKILL) and, unless keepState, remove its state. */
  stop(opts?: { keepState?: boolean }): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => { for (const c of live) c.kill('SIGKILL'); });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Start swtpm. Pass `stateDir` to restart a simulator on existing state (a reboot of the same
 * machine: NV and keys kept, PCRs reset); omit it for a brand-new TPM (another machine).
 */
export async function startSwtpm(opts: { stateDir?: string } = {}): Promise<Swtpm> {
  const stateDir = opts.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'sios-swtpm-'));
  let lastErr = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    // The swtpm TCTI of tpm2-tss talks to the control channel at port + 1: both must be free.
    const port = await freePort();
    if (port >= 65535 || !(await portFree(port + 1))) continue;
    const ctrl = port + 1;
    const child = spawn('swtpm', ['socket', '--tpm2',
      '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl', `type=tcp,port=${ctrl},bindaddr=127.0.0.1`,
      '--tpmstate', `dir=${stateDir}`,
      '--flags', 'not-need-init,startup-clear'], { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    let exited = false;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('exit', () => { exited = true; live.delete(child); });
    child.once('error', (e) => { exited = true; stderr += String(e); live.delete(child); });
    // Readiness: the command port accepts a connection (bounded number of polls, not a timing assertion).
    let ready = false;
    for (let i = 0; i < 400 && !exited; i++) {
      if (await canConnect(port)) { ready = true; break; }
      await sleep(10);
    }
    if (!ready) {
      child.kill('SIGKILL');
      lastErr = stderr || 'swtpm did not open its port';
      continue; // port taken between probe and bind: try other ports
    }
    const stop = async (o: { keepState?: boolean } = {}): Promise<void> => {
      if (!exited) {
        const done = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await done;
        clearTimeout(t);
      }
      if (!o.keepState && opts.stateDir === undefined) rmSync(stateDir, { recursive: true, force: true });
    };
    return { tcti: `swtpm:host=127.0.0.1,port=${port}`, port, stateDir, stop };
  }
  if (opts.stateDir === undefined) rmSync(stateDir, { recursive: true, force: true });
  throw new Error(`cannot start swtpm: ${lastErr}; install swtpm (scripts/setup-system.sh)`);
}
