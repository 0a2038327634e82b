#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What portex watch costs: one tick over 30,000 sockets (several mixes, each in a namespace
# with a private established hash), its CPU at 1 s ticks, and the tracepoints' cost on a
# connect-heavy load. Root. Writes the watch section of bench/RESULTS.md. Not a test: the
# machine is shared, the load is recorded beside each figure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DPORTEX_WERROR=OFF >/dev/null
exec python3 bench/watch.py build-bench/portex "$@"
