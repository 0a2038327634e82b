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
      libssl-dev ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build=${1:-build}
shift || true
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPORTEX_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
