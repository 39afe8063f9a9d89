#!/usr/bin/env bash
# Installs everything ct needs on a fresh Debian 12 with Node 20, then builds it.
#   Debian: fuse + libfuse2 (fuse-native's prebuild; never fuse3, it removes fusermount),
#           python3-libtorrent (the real peer our tests and benchmarks run against), attr (getfattr),
#           time (GNU time for benchmarks), gcc + libc6-dev (the engine's optional native
#           mapped-write addon; without them it falls back to pwrite), opentracker (a foreign tracker for the tracker tests), btfs (bench/mount compares
#           ct mount with it), aria2 + transmission-cli/-daemon + qbittorrent-nox (other clients the
#           interop tests swarm with), systemd (systemd-analyze verifies contrib/ct.service),
#           chromium (the web page's test drives it headless through puppeteer-core, which downloads
#           no browser), rclone + curl (real WebDAV and HTTP clients of ct serve's /dav/).
#   npm:    pnpm 10 (pnpm 11 needs Node 22), then the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(fuse libfuse2 python3-libtorrent attr time gcc libc6-dev btfs opentracker aria2 transmission-cli transmission-daemon qbittorrent-nox systemd chromium rclone curl)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1
fi

pnpm install --frozen-lockfile --reporter=silent
# (pnpm install also runs @ct/engine's install script, which builds the optional native
# mapped-write path with the system C compiler; without one the engine uses pwrite.)
pnpm run -s build
# `ct` on PATH: a link to the built CLI (it resolves paths against the caller's directory).
BIN_DIR=/usr/local/bin
SUDO=""
[ "$(id -u)" -ne 0 ] && [ ! -w "$BIN_DIR" ] && SUDO="sudo"
$SUDO ln -sf "$PWD/packages/cli/dist/main.js" "$BIN_DIR/ct"
echo "setup: ready (ct is $BIN_DIR/ct -> packages/cli/dist/main.js)"
