#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what portex needs to build and test (Debian 12), then builds it.
#   scripts/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Build and test dependencies: libraries, compilers, and the tools the tests call
# (ip, pgrep, unshare, python3).
pkgs=(build-essential cmake pkg-config libevent-dev libhttp-parser-dev libcmocka-dev
      iproute2 procps util-linux python3 clang libclang-rt-14-dev
      libjansson-dev libmnl-dev pdsh python3-yaml libssl-dev ca-certificates
      zlib1g-dev nodejs default-jre-headless libhdrhistogram-java)
# test_hlog reads --hlog with HdrHistogram's Java log processor and with
# hdr-histogram-js from npm; NodeSource's nodejs already ships npm.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
# The .deb: cpack needs dpkg-shlibdeps (dpkg-dev) and file; test_deb runs man -w (man-db).
pkgs+=(dpkg-dev file man-db)
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
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=$(apt_prefix) || exit 1
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build=${1:-build}
shift || true
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPORTEX_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
