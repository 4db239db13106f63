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
