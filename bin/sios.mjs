#!/usr/bin/env node
// The `sios` entry point. Plain JavaScript so that it can tell a user on an older Node what to do
// before the TypeScript sources (which need Node 24's type stripping and ML-DSA) are loaded.
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= 24)) {
  process.stderr.write(
    `sios: this is Node.js ${process.versions.node}; SIOS needs Node.js 24 or newer (ML-DSA-65 in node:crypto).\n` +
    `sios: the project brings its own: run ./sios (or npm run ...) from the project folder, which uses\n` +
    `      node_modules/.bin/node after 'npm ci'. Or install Node.js 24 LTS system-wide.\n`);
  process.exit(3);
}
process.removeAllListeners('warning');
process.on('warning', (w) => {
  // WebCrypto ML-DSA is flagged experimental in Node 24; SIOS uses node:crypto's stable sign/verify.
  if (w.name === 'ExperimentalWarning') return;
  process.stderr.write(`${w.name}: ${w.message}\n`);
});
// `sios ledger show | head`: a closed pipe ends the command quietly, like any Unix tool.
for (const s of [process.stdout, process.stderr]) s.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
