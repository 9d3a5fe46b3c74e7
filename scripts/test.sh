#!/usr/bin/env bash
# Runs every SIOS test: installs the system packages tests need (once), type-checks, then runs the
# node:test suites (unit, integration against real swtpm / bubblewrap / chromium / network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
echo "== typecheck (tsc --noEmit, strict)"
node_modules/.bin/tsc -p tsconfig.json --noEmit
echo "== tests"
exec node --test --test-concurrency=2 --disable-warning=ExperimentalWarning --test-reporter=spec "${@:-test/**/*.test.ts}"
