#!/usr/bin/env bash
# Build local stand-ins for the official python:3.11-slim and
# python:2.7.18-slim-stretch images. No container registry is reachable here,
# only the Debian mirror, so we debootstrap a rootfs and `docker import` it.
#
# Usage: scripts/build-images.sh [--force]
set -euo pipefail

# Bump when the recipe changes so existing images get rebuilt automatically.
RECIPE=1
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
FORCE=0
[[ ${1:-} == --force ]] && FORCE=1

log()  { printf '==> %s\n' "$*"; }
fail() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

ROOTFS=""
cleanup() {
  [[ -n $ROOTFS ]] || return 0
  rm -f "$ROOTFS.log"
  # debootstrap bind-mounts /proc and /sys into the target; if it was
  # interrupted they may still be mounted, and rm -rf must never recurse
  # into the host's /proc or /sys.
  grep -o " $ROOTFS/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l || true
  rm -rf --one-file-system "$ROOTFS"
  ROOTFS=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # so Ctrl-C / CI cancellation still runs cleanup

up_to_date() {
  local label
  label=$(docker image inspect -f '{{index .Config.Labels "org.flowsite.recipe"}}' "$1" 2>/dev/null) || return 1
  [[ $label == "$RECIPE" ]]
}

# build NAME SUITE CMD PACKAGES POST_SCRIPT
build() {
  local name=$1 suite=$2 cmd=$3 pkgs=$4 post=$5 start=$SECONDS old
  if (( ! FORCE )) && up_to_date "$name"; then
    log "$name: up to date (recipe $RECIPE), skipping"
    return
  fi
  old=$(docker image inspect -f '{{.Id}}' "$name" 2>/dev/null || true)
  log "$name: debootstrapping Debian $suite"
  ROOTFS=$(mktemp -d /var/tmp/flowsite-rootfs.XXXXXX)
  debootstrap --variant=minbase --include="$pkgs" "$suite" "$ROOTFS" "$MIRROR" \
    > "$ROOTFS.log" 2>&1 || { tail -n 30 "$ROOTFS.log" >&2; fail "debootstrap $suite failed"; }

  chroot "$ROOTFS" /bin/sh -euc "$post"
  # Docs, manpages, translations and apt caches are never used in a container;
  # dropping them keeps the image small. resolv.conf/hostname are
  # injected by docker at run time, so don't bake in the build host's values.
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* \
         "$ROOTFS"/usr/share/{doc,man,info,locale}/* "$ROOTFS"/var/log/*.log \
         "$ROOTFS"/etc/resolv.conf "$ROOTFS"/etc/hostname

  log "$name: importing into docker"
  tar --numeric-owner -C "$ROOTFS" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL org.flowsite.recipe=$RECIPE org.flowsite.suite=$suite" \
    --change "CMD [\"$cmd\"]" \
    - "$name" > /dev/null
  cleanup
  # A rebuild leaves the previous image dangling as <none>; drop it (fails
  # harmlessly if a container still uses it).
  [[ -n $old && $old != "$(docker image inspect -f '{{.Id}}' "$name")" ]] &&
    docker rmi "$old" >/dev/null 2>&1 || true
  log "$name: built in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' "$name" | numfmt --to=iec))"
}

command -v docker >/dev/null || fail "docker CLI not found"
docker info >/dev/null 2>&1 || fail "docker engine not reachable"
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
fi

# Debian marks its Python as externally managed (PEP 668); the official
# images don't, and our Dockerfiles rely on plain `pip install` as root.
build python:3.11-slim bookworm python3 \
  python3,python3-pip,python3-venv,ca-certificates \
  'rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
   ln -sf /usr/bin/python3 /usr/local/bin/python
   ln -sf /usr/bin/pip3 /usr/local/bin/pip'

# Stretch is off the mirror; bullseye is the last release shipping python2.7.
build python:2.7.18-slim-stretch bullseye python2 \
  python2.7,ca-certificates \
  'ln -sf /usr/bin/python2.7 /usr/local/bin/python
   ln -sf /usr/bin/python2.7 /usr/local/bin/python2'

log "smoke-testing images"
check() {  # check DESCRIPTION EXPECTED_REGEX docker-run-args...
  local what=$1 want=$2 out; shift 2
  out=$(docker run --rm "$@" 2>&1) || fail "$what: command failed: $out"
  [[ $out =~ $want ]] || fail "$what: unexpected output: $out"
  log "ok: $what -> ${out//$'\n'/ }"
}
check "3.11 python"  '^3\.11\.' python:3.11-slim python -c 'import sys; print(sys.version)'
check "3.11 python3" '^3\.11\.' python:3.11-slim python3 -c 'import sys; print(sys.version)'
check "3.11 pip"     'python 3\.11' python:3.11-slim pip --version
check "2.7 python"   '^hi$' python:2.7.18-slim-stretch python -c 'print "hi"'
# Outbound HTTPS goes through a TLS-inspecting proxy, so hand the container
# the host's CA bundle (which trusts the proxy) for this one check.
check "3.11 pip install from PyPI" '0\.4\.0$' \
  -v /etc/ssl/certs/ca-certificates.crt:/tmp/ca.crt:ro -e PIP_CERT=/tmp/ca.crt \
  python:3.11-slim sh -c 'pip install -q --root-user-action=ignore --disable-pip-version-check colorama==0.4.0 && python -c "import colorama; print(colorama.__version__)"'
log "all images built and verified"
