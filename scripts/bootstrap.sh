#!/usr/bin/env sh
# Makes a fresh machine (Node and npm, no Bun) ready: Bun itself, then the locked dependencies.
# `bootstrap.sh test` also installs Debian's Chromium when it is missing: the browser tests
# (swagger-browser, storefront-browser, the bench report in bench-smoke) drive it.
set -e
BUN_VERSION=1.4.5
if ! command -v bun >/dev/null 2>&1; then
  echo "Installing Bun $BUN_VERSION with npm…" >&2
  npm install -g "bun@$BUN_VERSION" >&2
fi
if [ "$1" = "test" ] && [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Chromium with apt-get (the browser tests need it)…" >&2
  if [ "$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2 ||
    echo "Could not install chromium: the browser tests will fail until it is installed (or CHROMIUM_PATH names one)" >&2
fi
cd "$(dirname "$0")/.."
bun install --frozen-lockfile >&2
