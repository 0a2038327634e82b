#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the peer tools from Debian, builds portex, and measures it against
# wrk, h2load and ab on loopback (nginx and portex serve as targets).
# Writes bench/RESULTS.md. Not a test: the machine is shared, read the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for p in wrk apache2-utils nghttp2-client httperf nginx-light; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
scripts/setup.sh build-bench -DCMAKE_BUILD_TYPE=Release
python3 bench/peers.py build-bench/portex "${@}"
