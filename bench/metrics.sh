#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cost of --metrics: portex run's throughput with --metrics and a scrape every second
# against without, runs alternating, medians (against portex serve on loopback).
# Writes its section of bench/RESULTS.md. Not a test: the machine is shared, read the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build-bench -DCMAKE_BUILD_TYPE=Release
python3 bench/metrics.py build-bench/portex "${@}"
