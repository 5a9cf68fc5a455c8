#!/usr/bin/env bash
# Builds Glasspane's container image (the top-level Dockerfile) with podman, from the app as
# built in this checkout: run `npm run build:native && npm run build` first.
#   scripts/container/build-image.sh [--force-base] [--chromium] [--tag NAME]
# Builds the base first when it is missing (scripts/container/build-base.sh). Needs root, like
# the podman flags below (measured on these VMs: crun and podman's default ulimits fail because
# root lacks CAP_SYS_RESOURCE, and cgroups are in hybrid mode).
set -euo pipefail
cd "$(dirname "$0")/../.."

tag="${GLASSPANE_IMAGE:-localhost/glasspane:latest}"
base_args=()
chromium=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force-base) base_args+=(--force) ;;
    --chromium) chromium=1 ;;
    --tag) tag="$2"; shift ;;
    *) echo "build-image: unknown argument $1 (expected: --force-base, --chromium, --tag NAME)" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v podman >/dev/null; then
  echo "build-image: podman is not installed; install it with: apt-get install -y podman buildah runc uidmap slirp4netns fuse-overlayfs" >&2
  exit 1
fi
for built in dist/main/cli/index.js renderer/dist/index.html native/build/Release/glasspane_capture.node; do
  if [ ! -e "$built" ]; then
    echo "build-image: $built is missing; build the app first: npm run build:native && npm run build" >&2
    exit 1
  fi
done

scripts/container/build-base.sh "${base_args[@]}"

# Stage what the Dockerfile copies besides the checkout: this host's node and npm (Node 20 from
# NodeSource's Debian 12 package; Debian 12's own nodejs is 18) and the production packages.
start=$(date +%s)
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "build-image: $node_bin is Node $major; the image needs Node 20 or later" >&2
  exit 1
fi
rm -rf .container
mkdir -p .container
cp "$node_bin" .container/node
cp -a "$npm_dir" .container/npm
# npm ls lists every installed production package (optional ones included); nested copies
# live inside their top-level parent, which is production too, so the top level is enough
npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$PWD/||" | grep -E '^node_modules/(@[^/]+/)?[^/]+$' | sort -u > .container/packages.txt || true
if [ ! -s .container/packages.txt ]; then
  echo "build-image: npm ls found no production packages; run npm ci first" >&2
  exit 1
fi
tar -c -T .container/packages.txt | tar -x -C .container
echo "build-image: staged node $("$node_bin" --version), npm and $(wc -l < .container/packages.txt) production packages in $(($(date +%s) - start)) s"

# --format docker keeps the HEALTHCHECK (OCI images have none); --network host: the build's apt
# reaches the mirror as this host does
start=$(date +%s)
podman --cgroup-manager=cgroupfs --runtime runc build \
  --format docker --network host \
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
  --build-arg WITH_CHROMIUM="$chromium" \
  --tag "$tag" --file Dockerfile .
echo "build-image: built $tag in $(($(date +%s) - start)) s"
