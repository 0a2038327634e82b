#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main demo: installs what is missing, builds, and shows port exhaustion.
#  - as root: `portex lab` (fresh namespaces, default modes) and a chart in demo-lab.svg;
#  - otherwise: portex serve on 127.0.0.1 and `portex compare` of the same load with short
#    connections and with keep-alive (100 ports each via --port-range), side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
px=build/portex

if [ "$(id -u)" -eq 0 ]; then
  echo "== portex lab: 1000 client ports, 2000 requests/s, 5 s per mode =="
  "$px" lab --ports 1000 -r 2000 -d 5s --svg demo-lab.svg
  echo
  echo "chart: $(pwd)/demo-lab.svg"
  exit 0
fi

out=$(mktemp -d)
trap 'kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; rm -rf "$out"' EXIT
"$px" serve --listen 127.0.0.1:0 -t 1 2>"$out/serve.log" >/dev/null &
srv=$!
for _ in $(seq 50); do grep -q listening "$out/serve.log" 2>/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$(sed -n 's/.*:\([0-9]*\) (.*/\1/p' "$out/serve.log")/"
echo "== not root: loopback demo against portex serve at $url =="
# compare runs both modes, each in a 100-port window of its own (40000-40099, then the next),
# and puts them in the lab's table: predicted beside measured, TIME_WAIT left from before
# marked '*', the sustained ceiling under the table, a diagnosis per mode.
"$px" compare -q --modes short,keepalive --port-range 40000-40099 -r 1000 -d 5s "$url"
