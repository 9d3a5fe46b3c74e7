import * as fs from 'node:fs';
/**
 * `sios serve`: the HTTP API and the web pages (console, approval page, offline verifier) on
 * loopback. The pages are built once at start-up into self-contained HTML strings; the browser
 * loads nothing but them and the same-origin /v1 API.
 */
import { TrustedPublishers } from '../../skills/envelope.ts';
import { SiosError } from '../../errors.ts';
import { Deployment } from '../../deployment/deployment.ts';
import { App } from '../../app/app.ts';
import { serve } from '../../api/node-adapter.ts';
import { str, type CommandSpec } from '../args.ts';
import { dataDir, dataOption, passOption, readPassphrase } from '../context.ts';

export const DEFAULT_PORT = 7420;

export const command: CommandSpec = {
  help: `sios serve — the API and the web console on loopback

usage:
  sios serve [--data DIR] [--port N] [--host 127.0.0.1|::1] [--passphrase-file FILE] [--sentinel-plugin DIR]

Serves on http://localhost:PORT (default ${DEFAULT_PORT}):
  /               the console: sign in with a passkey, approvals, live ledger timeline
  /approve        the approval page (?tenant=T&id=ID): what a passkey approval signs, before the prompt
  /verifier.html  the offline ledger verifier page
  /v1/...         the HTTP API (/v1/openapi.json describes it)
Optional TLS (1.3) with the operator's certificate: --tls-cert FILE --tls-key FILE (PEM).
--sentinel-plugin DIR adds an operator-signed ONNX detector pack (see 'sios sentinel plugin') to
Sentinel's built-in detector for the gate and the agent loop; a pack that does not verify stops start-up.
Open it as http://localhost:PORT, not 127.0.0.1: passkeys are bound to the name "localhost".
Stops cleanly on Ctrl-C (SIGINT) or SIGTERM. --port 0 picks a free port.
`,
  options: { ...dataOption, ...passOption, port: { type: 'string' }, host: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'sentinel-plugin': { type: 'string' } },
  async run(args) {
    const portText = str(args, 'port') ?? String(DEFAULT_PORT);
    const port = Number(portText);
    if (!/^\d{1,5}$/.test(portText) || port > 65535) throw new SiosError('ERR_INPUT', `--port must be a TCP port number (0-65535), got '${portText.slice(0, 20)}'`);
    const host = str(args, 'host') ?? '127.0.0.1';
    const pages = await buildPages();

    const passphrase = await readPassphrase(args);
    // The handler is bound once the App exists: the App needs the real port for its WebAuthn origins.
    let handler: ((r: Request) => Promise<Response>) | undefined;
    const certFile = str(args, 'tls-cert'), keyFile = str(args, 'tls-key');
    if ((certFile === undefined) !== (keyFile === undefined)) throw new SiosError('ERR_INPUT', 'TLS needs both --tls-cert and --tls-key (PEM files)');
    let tls: { cert: Uint8Array; key: Uint8Array } | undefined;
    if (certFile && keyFile) {
      try { tls = { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }; } catch (cause) { throw new SiosError('ERR_INPUT', `cannot read the TLS certificate or key: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause }); }
    }
    const server = await serve(async (r) => handler ? handler(r) : new Response('starting', { status: 503 }), { host, port, ...(tls ? { tls } : {}) });
    let app: App;
    let plugin: { close(): Promise<void> } | undefined;
    try {
      const deployment = await Deployment.open(dataDir(args), { passphrase });
      const pluginDir = str(args, 'sentinel-plugin');
      if (pluginDir === '') throw new SiosError('ERR_INPUT', '--sentinel-plugin needs the detector pack directory. See --help');
      // Loaded only when asked for; verified against the operator key before any inference.
      const detector = pluginDir === undefined ? undefined : await (await import('../../sentinel/onnx/index.ts')).loadCombinedDetector(pluginDir, new TrustedPublishers(deployment.signer.publicKey));
      plugin = detector;
      if (detector) process.stderr.write(`sentinel: detector pack ${detector.plugin.ref} verified and in use\n`);
      app = App.fromDeployment(deployment, {
        ...(detector ? { detector: (t: string) => detector.scan(t) } : {}),
        rpID: 'localhost', origins: [`${tls ? 'https' : 'http'}://localhost:${server.port}`], pages,
        // One JSON line per request on stderr: method, path shape, status, milliseconds; never tokens or payloads.
        log: (e) => process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n'),
      });
      handler = app.api();
    } catch (e) {
      await server.close();
      await plugin?.close();
      throw e;
    }
    const url = `${tls ? 'https' : 'http'}://localhost:${server.port}`;
    process.stdout.write(`SIOS ${app.deployment.id} serving on ${url}/  (console)  ${url}/verifier.html  ${url}/v1/health\n`);
    if (!pages['/verifier.html']) process.stderr.write('note: the verifier page is not available in this build\n');

    await new Promise<void>((resolve) => {
      const stop = (sig: string): void => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        process.stderr.write(`${sig}: stopping\n`);
        resolve();
      };
      const onInt = (): void => stop('SIGINT');
      const onTerm = (): void => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    });
    handler = undefined;
    await server.close();
    await app.close();
    await plugin?.close();
    process.stderr.write('stopped\n');
    return 0;
  },
};

/** Builds the pages once; every request then serves the same string. */
export async function buildPages(): Promise<Record<string, () => string>> {
  const { buildConsoleHtml } = await import('../../web/console/build.ts');
  const consoleHtml = await buildConsoleHtml();
  const pages: Record<string, () => string> = { '/': () => consoleHtml, '/console': () => consoleHtml, '/approve': () => consoleHtml };
  try {
    const { buildVerifierHtml } = await import('../../../scripts/build-web.ts');
    const verifier = await buildVerifierHtml();
    pages['/verifier.html'] = () => verifier;
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
  return pages;
}
