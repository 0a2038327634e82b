#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs nginx, wrk and h2load from Debian, builds portex, and measures
# portex over TLS against wrk and h2load, nginx with TLS on loopback.
# Writes the TLS section of bench/RESULTS.md. Not a test: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/benchlib.sh
bench_install wrk nghttp2-client nginx openssl
# Tests are not needed here (and a Release -Werror build of them is not what is measured).
scripts/setup.sh build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
python3 bench/tls.py build-bench/portex "${@}"
