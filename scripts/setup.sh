#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what portex needs to build and test (Debian 12), then builds it.
#   scripts/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Build and test dependencies: libraries, compilers, and the tools the tests call
# (ip, pgrep, unshare, python3; curl as a second HTTP/2 client in test_h2).
pkgs=(build-essential cmake pkg-config libevent-dev libhttp-parser-dev libcmocka-dev
      iproute2 procps util-linux python3 clang libclang-rt-14-dev
      libjansson-dev libmnl-dev pdsh python3-yaml libssl-dev ca-certificates
      zlib1g-dev nodejs default-jre-headless libhdrhistogram-java
      libnftables-dev libnghttp2-dev nghttp2-client nghttp2-server openssl curl)
# The lab's NAT and proxy modes: nftables (nft, to look at the host's ruleset in the tests)
# and nginx, the reverse proxy it runs in a middle namespace.
pkgs+=(nftables nginx)
# test_hlog reads --hlog with HdrHistogram's Java log processor and with
# hdr-histogram-js from npm; NodeSource's nodejs already ships npm.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
# The .deb: cpack needs dpkg-shlibdeps (dpkg-dev) and file; test_deb runs man -w (man-db).
pkgs+=(dpkg-dev file man-db)
# --metrics: test_prometheus scrapes portex with Debian's Prometheus (promtool comes with it).
pkgs+=(prometheus)
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# How apt-get runs: as root directly, else through sudo; with neither, say what to do.
apt_prefix() {
  if [ "$(id -u)" -eq 0 ]; then
    echo ""
  elif command -v sudo >/dev/null 2>&1; then
    echo "sudo"
  else
    echo "setup: cannot install ${missing[*]}: run as root, or install sudo" >&2
    return 1
  fi
}
build=${1:-build}
shift || true
# apt's progress goes to a log: one line here, the whole story there when it fails.
aptlog="$build/setup-apt.log"
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=$(apt_prefix) || exit 1
  mkdir -p "$build"
  # Debian starts a service when its package is installed: nginx would then listen on
  # the host's port 80. The lab starts its own nginx in a namespace, so the package is
  # installed with services held back (policy-rc.d 101), unless a policy is there already.
  if [[ " ${missing[*]} " == *" nginx "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]} (log: $aptlog)"
  if ! { $SUDO apt-get update -q &&
         DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
           "${missing[@]}"; } >"$aptlog" 2>&1; then
    tail -n 20 "$aptlog" >&2
    echo "setup: apt-get failed (the whole log: $aptlog)" >&2
    exit 1
  fi
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPORTEX_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"

# test_hlog decodes --hlog with hdr-histogram-js from npm: installed once here (cached in
# the build tree), never while the tests run. Without the registry the test says it skipped.
hlog_js="$build/hlog-node"
if [ ! -f "$hlog_js/node_modules/hdr-histogram-js/package.json" ] && command -v npm >/dev/null; then
  if ! npm install --prefix "$hlog_js" --no-audit --no-fund --loglevel=error \
       --cache "$hlog_js/.npm-cache" hdr-histogram-js@3.0.1 >"$build/setup-npm.log" 2>&1; then
    echo "setup: npm could not install hdr-histogram-js (log: $build/setup-npm.log);" \
         "test_hlog will skip that part" >&2
  fi
fi
