#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the peer tools from Debian, builds portex, and measures it against
# wrk, h2load and ab on loopback (nginx and portex serve as targets).
# Writes bench/RESULTS.md. Not a test: the machine is shared, read the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/benchlib.sh
bench_install wrk apache2-utils nghttp2-client httperf nginx
scripts/setup.sh build-bench -DCMAKE_BUILD_TYPE=Release
python3 bench/peers.py build-bench/portex "${@}"
