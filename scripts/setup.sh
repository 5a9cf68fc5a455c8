#!/usr/bin/env bash
# Sets up Glasspane on a fresh Debian/Ubuntu machine: system packages, npm packages, build.
#   scripts/setup.sh          what the runtime needs
#   scripts/setup.sh --test   also what the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(xvfb openbox python3-xdg xdg-utils xterm ffmpeg fonts-dejavu-core xfonts-base dbus-x11
          libx11-dev libxext-dev libxtst-dev libxfixes-dev)
if [ "${1:-}" = "--test" ]; then
  packages+=(xclip x11-utils xdotool chromium python3)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Electron's binary comes from outside the npm registry; the runtime does not need it.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
