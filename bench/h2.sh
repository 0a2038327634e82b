#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs nginx and h2load from Debian, builds portex, and measures portex run --http2
# against h2load: nginx with http2 on TLS, and portex serve (h2c), on loopback.
# Writes the HTTP/2 section of bench/RESULTS.md. Not a test: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/benchlib.sh
bench_install nghttp2-client nginx openssl time
# Tests are not needed here (and a Release -Werror build of them is not what is measured).
scripts/setup.sh build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
python3 bench/h2.py build-bench/portex "${@}"
