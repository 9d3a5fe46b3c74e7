/** `sios serve` as a process: opens the deployment, serves the API and pages on loopback, stops on SIGTERM. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initDeployment } from '../../src/deployment/deployment.ts';
import { passphraseProtector } from '../../src/crypto/passphrase.ts';

const SERVE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/commands/serve.ts');

test('sios serve prints its URL, serves the console and the API, and stops cleanly on SIGTERM', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-serve-'));
  const passFile = path.join(dir, 'pass');
  fs.writeFileSync(passFile, 'correct horse battery staple\n');
  const data = path.join(dir, 'data');
  await initDeployment(data, [passphraseProtector('correct horse battery staple')], { id: 'serve-test' });
  const served = await startServe(data, passFile);
  try {
    const url = served.url;
    assert.match(served.out(), /SIOS serve-test serving on http:\/\/localhost:\d+\//);
    const health = await (await fetch(url + '/v1/health')).json() as { ok: boolean; deployment: string };
    assert.deepEqual([health.ok, health.deployment], [true, 'serve-test']);
    for (const p of ['/', '/console', '/approve', '/verifier.html']) {
      const r = await fetch(url + p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await r.text(), /<title>SIOS/);
    }
    assert.equal((await fetch(url + '/nope')).status, 404);
    assert.equal(await served.stop(), 0, served.err());
    assert.match(served.err(), /SIGTERM: stopping\nstopped\n/);
  } finally {
    await served.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('sios serve refuses a bad port before asking for the passphrase', async () => {
  const { command } = await import('../../src/cli/commands/serve.ts');
  await assert.rejects(command.run({ values: { port: '99999' }, positionals: [] }), /--port must be a TCP port number/);
  await assert.rejects(command.run({ values: { port: '80a' }, positionals: [] }), /--port must be a TCP port number/);
});

test('sios serve --sentinel-plugin: a missing or unsigned detector pack stops start-up with a clear error and closes the port', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-serve-plugin-'));
  try {
    const passFile = path.join(dir, 'pass');
    fs.writeFileSync(passFile, 'correct horse battery staple\n');
    const data = path.join(dir, 'data');
    await initDeployment(data, [passphraseProtector('correct horse battery staple')], { id: 'serve-plugin-test' });
    const { command } = await import('../../src/cli/commands/serve.ts');
    const run = (plugin: string): Promise<number> => command.run({ values: { data, port: '0', 'passphrase-file': passFile, 'sentinel-plugin': plugin }, positionals: [] });
    // No such directory.
    await assert.rejects(run(path.join(dir, 'no-such-pack')), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_NOT_FOUND', e.message);
      assert.match(e.message, /detector pack directory .*no-such-pack does not exist/, e.message);
      return true;
    });
    // A directory with weights but no operator signature: refused before any inference.
    const unsigned = path.join(dir, 'unsigned');
    fs.mkdirSync(unsigned);
    fs.writeFileSync(path.join(unsigned, 'model.onnx'), 'not a model');
    fs.writeFileSync(path.join(unsigned, 'tokenizer.json'), '{}');
    await assert.rejects(run(unsigned), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_VERIFY', e.message);
      assert.match(e.message, /has no signed manifest sios-detector\.json; sign the pack with 'sios sentinel plugin sign/, e.message);
      return true;
    });
    // The deployment still opens and serves afterwards (nothing was left locked or half-started).
    const served = await startServe(data, passFile);
    try {
      assert.match(served.out(), /serving on http:\/\/localhost:\d+\//);
      assert.equal(await served.stop(), 0, served.err());
    } finally {
      await served.kill();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Starts `sios serve` on the deployment in a child process and waits for its URL line. stop() sends
 * SIGTERM and resolves with the exit code; kill() makes sure the child is gone (for finally blocks).
 */
async function startServe(data: string, passFile: string): Promise<{ url: string; out(): string; err(): string; stop(): Promise<number | null>; kill(): Promise<void> }> {
  const script = `const { command } = await import(${JSON.stringify(SERVE)}); process.exitCode = await command.run({ values: { data: ${JSON.stringify(data)}, port: '0', 'passphrase-file': ${JSON.stringify(passFile)} }, positionals: [] });`;
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIOS_PASSPHRASE: '' } });
  let out = '', err = '';
  child.stdout.on('data', (c: Buffer) => { out += c; });
  child.stderr.on('data', (c: Buffer) => { err += c; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const kill = async (): Promise<void> => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); await exited; };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const check = setInterval(() => {
        const m = /serving on (http:\/\/localhost:\d+)\//.exec(out);
        if (m) { clearInterval(check); resolve(m[1]!); }
      }, 25);
      void exited.then((c) => { clearInterval(check); reject(new Error(`sios serve exited (${c}) before serving: ${err}`)); });
    });
    return { url, out: () => out, err: () => err, stop: async () => { child.kill('SIGTERM'); return exited; }, kill };
  } catch (e) {
    await kill();
    throw e;
  }
}
