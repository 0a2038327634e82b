#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Soak: portex run against portex serve on loopback for SOAK_S seconds (600),
# half short connections, half keep-alive; samples RSS and open fds of both
# processes every 10 s and fails (exit 1) when memory or fds grow, or when a
# run's accounting does not add up.
#   bench/soak.sh                 SOAK_S=60 bench/soak.sh   (quick check)
# Environment: SOAK_S (600), SOAK_INTERVAL (10), SOAK_SHORT_RATE (3000),
# SOAK_KA_RATE (20000), SOAK_C (64), SOAK_OUT (directory; default a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

total=${SOAK_S:-600}
interval=${SOAK_INTERVAL:-10}
short_rate=${SOAK_SHORT_RATE:-3000}
ka_rate=${SOAK_KA_RATE:-20000}
conns=${SOAK_C:-64}
half=$((total / 2))
out=${SOAK_OUT:-$(mktemp -d /tmp/portex-soak.XXXXXX)}
mkdir -p "$out"
csv=$out/soak.csv

# Warnings are CI's business (-Werror there); a bench needs the binary, so a
# new compiler warning in some unit test must not stop it.
scripts/setup.sh build-bench -DCMAKE_BUILD_TYPE=Release -DPORTEX_WERROR=OFF >/dev/null
px=build-bench/portex

"$px" serve --listen 127.0.0.1:0 -t 1 >"$out/serve.json" 2>"$out/serve.err" &
serve_pid=$!
run_pid=""
cleanup() {
  [ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null || true
  kill "$serve_pid" 2>/dev/null || true
}
trap cleanup EXIT
port=""
for _ in $(seq 50); do
  port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$out/serve.err")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "soak: portex serve did not say where it listens:" >&2; cat "$out/serve.err" >&2; exit 1; }
url=http://127.0.0.1:$port/

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo ""; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# serve's fds with no load on it: it must come back to exactly this after the load.
sleep 0.5
serve_idle_fds=$(fds "$serve_pid")
echo "t_s,phase,run_rss_kb,run_fds,serve_rss_kb,serve_fds" >"$csv"
t0=$(date +%s)

# One phase: start portex run in the background for $half seconds, sample both
# processes every $interval s (the first sample half an interval in, so no
# sample races the run's start or its exit), keep its text report for the accounting.
phase() {
  local name=$1
  shift
  # No --json: with it every series row keeps its interval histogram (about
  # 8 kB a second), growth by design that would hide a leak. The text report
  # has the accounting.
  "$px" run -q -t 1 -c "$conns" -d "${half}s" "$@" "$url" >"$out/$name.txt" 2>&1 &
  run_pid=$!
  local start next
  start=$(date +%s)
  sleep $((interval / 2))
  next=$((interval / 2))
  while [ $next -lt "$half" ] && kill -0 "$run_pid" 2>/dev/null; do
    local rr rf sr sf
    rr=$(rss_kb "$run_pid"); rf=$(fds "$run_pid")
    sr=$(rss_kb "$serve_pid"); sf=$(fds "$serve_pid")
    [ -n "$rr" ] && echo "$(($(date +%s) - t0)),$name,$rr,$rf,$sr,$sf" >>"$csv"
    next=$((next + interval))
    local now=$(($(date +%s) - start))
    [ $now -lt $next ] && sleep $((next - now))
  done
  local rc=0
  wait "$run_pid" || rc=$?
  run_pid=""
  [ $rc -eq 0 ] || { echo "soak: portex run ($name) exited $rc:" >&2; cat "$out/$name.txt" >&2; exit 1; }
}

# Short connections with the server closing first: the server holds TIME_WAIT,
# so the client's ports stay free however long the soak. Short connections
# closed by the client would fill the loopback port range with TIME_WAIT
# within seconds at this rate and end in EADDRNOTAVAIL: that is the port
# limit portex demonstrates, not a leak, and not what a soak measures.
phase short --close server -r "$short_rate"
phase keepalive -k -r "$ka_rate"

sleep 1
serve_end_fds=$(fds "$serve_pid")
kill -TERM "$serve_pid"
wait "$serve_pid" || { echo "soak: portex serve exited non-zero" >&2; exit 1; }
trap - EXIT

echo "$serve_idle_fds $serve_end_fds $conns" >"$out/params"
exec python3 bench/soak_check.py "$out"
