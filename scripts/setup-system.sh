#!/usr/bin/env bash
# Installs the Debian packages that SIOS's tests and optional subsystems use.
# Idempotent: installs only what is missing. Needs root (or sudo) and Debian's package mirror.
#   swtpm, swtpm-tools, tpm2-tools  TPM 2.0 simulator and client (attestation tests)
#   bubblewrap                      sandboxed cells (perimeter)
#   chromium                        real-browser tests (verifier page, passkeys, console)
#   tinyproxy                       the established proxy the egress benchmark compares against
#   iproute2                        network namespaces for the zero-egress test hosts
#   openssl                         a throwaway TLS certificate for the TLS test of sios serve
set -euo pipefail
want=(swtpm swtpm-tools tpm2-tools bubblewrap chromium tinyproxy iproute2 openssl)
missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "sios: installing system packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "sios: need root to install ${missing[*]}; run: apt-get install ${missing[*]}" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian starts these services on install; SIOS's tests start their own instances on demand.
for s in tinyproxy; do $SUDO service "$s" stop >/dev/null 2>&1 || true; done
