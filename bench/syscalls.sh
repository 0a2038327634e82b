#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# System calls (strace -f -c) and client CPU per short request, server closing
# first, for portex run, wrk and h2load against nginx on loopback. Installs the
# peer tools from Debian like bench/peers.sh (bench tools, not test
# dependencies), builds portex, runs bench/syscalls.py.
#   bench/syscalls.sh [--requests N] [--conns 1,8] [--label NAME] [--out bench/RESULTS.md]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/benchlib.sh
bench_install wrk nghttp2-client nginx strace
# Warnings are CI's business (-Werror there); a bench needs the binary, so a
# new compiler warning in some unit test must not stop it.
scripts/setup.sh build-bench -DCMAKE_BUILD_TYPE=Release -DPORTEX_WERROR=OFF >/dev/null
exec python3 bench/syscalls.py build-bench/portex "$@"
