#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main demo: installs what is missing, builds, and shows port exhaustion.
#  - as root: `portex lab` (fresh namespaces, default modes) and a chart in demo-lab.svg;
#  - otherwise: portex serve on 127.0.0.1 and the same load with short connections
#    (100 ports via --port-range) and with keep-alive, side by side.
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
"$px" run -q --port-range 40000-40099 -r 1000 -d 5s --json "$out/short.json" "$url" >/dev/null
"$px" run -q -k --port-range 40000-40099 -r 1000 -d 5s --json "$out/keep.json" "$url" >/dev/null
python3 - "$out/short.json" "$out/keep.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["summary"] for p in sys.argv[1:3])
rows = [("requests", "requests"), ("ok", "ok"), ("ok/s", "ok_per_s"),
        ("EADDRNOTAVAIL", None), ("connections opened", "connections_opened"),
        ("TIME_WAIT peak", "time_wait_peak"), ("first EADDRNOTAVAIL (s)", "first_eaddrnotavail_s"),
        ("predicted ceiling/s", "predicted_ceiling_per_s")]
def val(s, k, name):
    v = s["errors"].get("EADDRNOTAVAIL", 0) if k is None else s[k]
    return "-" if v is None else (f"{v:,.1f}" if isinstance(v, float) else f"{v:,}")
print(f"{'100 client ports, 1000 req/s, 5 s':30} {'short (client closes)':>22} {'keep-alive':>14}")
for name, k in rows:
    print(f"{name:30} {val(a, k, name):>22} {val(b, k, name):>14}")
print()
print("short:     ", a["diagnosis"])
print("keep-alive:", b["diagnosis"])
PY
