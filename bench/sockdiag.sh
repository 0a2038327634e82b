#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Times one sock_diag TIME_WAIT dump with 30k TIME_WAIT sockets, in a fresh
# network namespace (root) so the host's ports and sysctls are not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build-bench -DCMAKE_BUILD_TYPE=Release
exec unshare --net bash -c 'ip link set lo up; exec build-bench/bench/bench_sockdiag "${1:-30000}"' x "$@"
