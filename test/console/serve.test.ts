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
  const script = `const { command } = await import(${JSON.stringify(SERVE)}); process.exitCode = await command.run({ values: { data: ${JSON.stringify(data)}, port: '0', 'passphrase-file': ${JSON.stringify(passFile)} }, positionals: [] });`;
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIOS_PASSPHRASE: '' } });
  let out = '', err = '';
  child.stdout.on('data', (c: Buffer) => { out += c; });
  child.stderr.on('data', (c: Buffer) => { err += c; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const check = setInterval(() => {
        const m = /serving on (http:\/\/localhost:\d+)\//.exec(out);
        if (m) { clearInterval(check); resolve(m[1]!); }
      }, 25);
      void exited.then((c) => { clearInterval(check); reject(new Error(`sios serve exited (${c}) before serving: ${err}`)); });
    });
    assert.match(out, /SIOS serve-test serving on http:\/\/localhost:\d+\//);
    const health = await (await fetch(url + '/v1/health')).json() as { ok: boolean; deployment: string };
    assert.deepEqual([health.ok, health.deployment], [true, 'serve-test']);
    for (const p of ['/', '/console', '/approve', '/verifier.html']) {
      const r = await fetch(url + p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await r.text(), /<title>SIOS/);
    }
    assert.equal((await fetch(url + '/nope')).status, 404);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.match(err, /SIGTERM: stopping\nstopped\n/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
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
    const ok = spawnServeOnce(data, passFile);
    assert.match(await ok, /serving on http:\/\/localhost:\d+\//);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Starts `sios serve` in a child process, waits for its URL line, stops it; resolves with its stdout. */
async function spawnServeOnce(data: string, passFile: string): Promise<string> {
  const script = `const { command } = await import(${JSON.stringify(SERVE)}); process.exitCode = await command.run({ values: { data: ${JSON.stringify(data)}, port: '0', 'passphrase-file': ${JSON.stringify(passFile)} }, positionals: [] });`;
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIOS_PASSPHRASE: '' } });
  let out = '', err = '';
  child.stdout.on('data', (c: Buffer) => { out += c; });
  child.stderr.on('data', (c: Buffer) => { err += c; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => { if (/serving on /.test(out)) { clearInterval(check); resolve(); } }, 25);
      void exited.then((c) => { clearInterval(check); reject(new Error(`sios serve exited (${c}) before serving: ${err}`)); });
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    return out;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
}
