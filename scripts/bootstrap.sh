#!/usr/bin/env sh
# Makes a fresh machine (Node and npm, no Bun) ready: Bun itself, then the locked dependencies.
set -e
BUN_VERSION=1.4.5
if ! command -v bun >/dev/null 2>&1; then
  echo "Installing Bun $BUN_VERSION with npm…" >&2
  npm install -g "bun@$BUN_VERSION" >&2
fi
cd "$(dirname "$0")/.."
bun install --frozen-lockfile >&2
# The report test (test/bench-smoke.test.ts) renders bench/report.html in headless Chromium:
# Debian's package, installed only when it is missing.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium with apt-get…" >&2
  { apt-get update >&2 && apt-get install -y chromium >&2; } || echo "Could not install chromium (root and apt-get needed): the report test will fail" >&2
fi
