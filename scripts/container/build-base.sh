#!/usr/bin/env bash
# Builds the container image's base, Debian 12 (bookworm, minbase), from Debian's package
# repository with debootstrap and imports it into podman as localhost/glasspane-base:bookworm.
# No image registry is needed: the mirror is the one this machine's apt uses.
#   scripts/container/build-base.sh           skipped when the image exists
#   scripts/container/build-base.sh --force   rebuilds it
# Env: GLASSPANE_BASE_IMAGE (the image name), DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR (override the
# mirrors read from /etc/apt).
set -euo pipefail

image="${GLASSPANE_BASE_IMAGE:-localhost/glasspane-base:bookworm}"
force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    *) echo "build-base: unknown argument $arg (expected: --force)" >&2; exit 2 ;;
  esac
done

for tool in debootstrap podman; do
  if ! command -v "$tool" >/dev/null; then
    echo "build-base: $tool is not installed; install it with: apt-get install -y debootstrap podman" >&2
    exit 1
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "build-base: debootstrap needs root (run it with sudo)" >&2
  exit 1
fi

if [ "$force" -eq 0 ] && podman image exists "$image"; then
  echo "build-base: $image exists (use --force to rebuild)"
  exit 0
fi

# The mirror this machine's apt uses: the first URI of a deb822 source or a one-line source that
# serves the given suite, else Debian's own.
host_mirror() { # suite-pattern default
  local found=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    found=$(awk -v want="$1" '
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i ~ want) { print uri; exit } }
    ' /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$found" ] && compgen -G "/etc/apt/sources.list*" >/dev/null; then
    found=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk -v want="$1" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) ~ want) { print $i; exit } break } }')
  fi
  echo "${found:-$2}"
}
mirror="${DEBIAN_MIRROR:-$(host_mirror '^bookworm$' http://deb.debian.org/debian)}"
security="${DEBIAN_SECURITY_MIRROR:-$(host_mirror '^bookworm-security$' http://deb.debian.org/debian-security)}"

root=$(mktemp -d /var/tmp/glasspane-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "build-base: debootstrap bookworm (minbase) from $mirror"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror"

# The image's apt uses the same mirrors, with updates and security like a stock Debian 12.
rm -f "$root/etc/apt/sources.list"
cat > "$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
# An image keeps no package caches or recommends.
cat > "$root/etc/apt/apt.conf.d/90glasspane-image" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
APT
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/tmp/*
# podman supplies these per container
: > "$root/etc/hostname"
rm -f "$root/etc/resolv.conf"

tar --numeric-owner --xattrs -C "$root" -c . |
  podman import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$image" >/dev/null
echo "build-base: imported $image in $(($(date +%s) - start)) s"
