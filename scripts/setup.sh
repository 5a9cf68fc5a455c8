#!/usr/bin/env bash
# Sets up Glasspane on a fresh Debian/Ubuntu machine: system packages, npm packages, build.
#   scripts/setup.sh          what the runtime needs
#   scripts/setup.sh --test   also what the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

# build-essential, python3 and the X11 headers build the native capture addon (native/);
# chromium is the managed browser (/v1/desktop/browser); git serves /v1/git
packages=(xvfb openbox python3-xdg xdg-utils xterm ffmpeg fonts-dejavu-core xfonts-base dbus-x11
          build-essential python3 libx11-dev libxext-dev libxtst-dev libxfixes-dev chromium git)
if [ "${1:-}" = "--test" ]; then
  # imagemagick, x11-xserver-utils and xauth: the reference server that npm run bench runs beside us
  packages+=(xclip x11-utils xdotool imagemagick x11-xserver-utils xauth zenity)
  # kubectl renders deploy/ (test/deploy.test.ts); a kubectl from elsewhere owns /usr/bin/kubectl
  # and renders it as well, so Debian's is added only where there is none
  command -v kubectl >/dev/null || packages+=(kubernetes-client)
  # bubblewrap runs the runtime on a read-only root as the pod does (test/deploy.test.ts)
  packages+=(bubblewrap)
  # test/container.test.ts builds the image's base with debootstrap and builds and runs it with
  # podman (runc: crun fails on these VMs)
  packages+=(podman buildah debootstrap runc uidmap slirp4netns fuse-overlayfs)
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
# The addon is optional at run time, but setup builds it and fails loudly when it cannot.
npm run build:native
npm run build
