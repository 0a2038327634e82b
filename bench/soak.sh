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

scripts/setup.sh build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
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
# sample races the run's start or its exit), keep its JSON for the accounting.
phase() {
  local name=$1
  shift
  "$px" run -q -t 1 -c "$conns" -d "${half}s" "$@" --json "$out/$name.json" "$url" \
    >"$out/$name.txt" 2>&1 &
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

python3 - "$out" "$csv" "$serve_idle_fds" "$serve_end_fds" "$conns" <<'EOF'
import csv, json, statistics, sys

out, path, serve_idle_fds, serve_end_fds, conns = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
fails = []

print(f"{'t_s':>5} {'phase':<10} {'run RSS kB':>11} {'run fds':>8} {'serve RSS kB':>13} {'serve fds':>10}")
for r in rows:
    print(f"{r['t_s']:>5} {r['phase']:<10} {r['run_rss_kb']:>11} {r['run_fds']:>8} "
          f"{r['serve_rss_kb']:>13} {r['serve_fds']:>10}")
print()

# Like with like: each phase apart (the run is a new process in each; serve
# holds different buffers for short and keep-alive connections). The first
# third of a phase's samples (at most 3) is warm-up; the baseline is the
# median of the next 3; the end is the last sample.
print(f"{'check':<24} {'start':>9} {'end':>9}  verdict")
for phase in ("short", "keepalive"):
    ph = [r for r in rows if r["phase"] == phase]
    if len(ph) < 3:
        fails.append(f"{phase}: only {len(ph)} samples")
        continue
    warm = min(3, len(ph) // 3)
    base = ph[warm:warm + 3]
    for who in ("run", "serve"):
        rss0 = statistics.median(int(r[f"{who}_rss_kb"]) for r in base)
        rss1 = int(ph[-1][f"{who}_rss_kb"])
        # Grows: more than 10% and more than 2 MB above the baseline.
        bad = rss1 > rss0 * 1.10 and rss1 - rss0 > 2048
        print(f"{phase + ' ' + who + ' RSS kB':<24} {rss0:>9.0f} {rss1:>9}  {'GROWS' if bad else 'flat'}")
        if bad:
            fails.append(f"{phase}: {who} RSS {rss0:.0f} -> {rss1} kB")
        # fds: in flight connections come and go (at most -c of them), so a
        # sample may differ from the baseline by up to -c; a leak at these
        # rates exceeds that within one interval.
        fd0 = statistics.median(int(r[f"{who}_fds"]) for r in base)
        fd1 = max(int(r[f"{who}_fds"]) for r in ph[warm:])
        bad = fd1 > fd0 + int(conns)
        print(f"{phase + ' ' + who + ' fds (max)':<24} {fd0:>9.0f} {fd1:>9}  {'GROWS' if bad else 'flat'}")
        if bad:
            fails.append(f"{phase}: {who} fds {fd0:.0f} -> {fd1}")
# serve with no load: exactly as many fds after the soak as before it.
bad = serve_end_fds != serve_idle_fds
print(f"{'serve fds, idle':<24} {serve_idle_fds:>9} {serve_end_fds:>9}  {'LEAK' if bad else 'same'}")
if bad:
    fails.append(f"serve idle fds {serve_idle_fds} -> {serve_end_fds}")
print()

# Accounting: every request is ok or failed; none fails against serve; serve
# saw exactly the connections and requests the runs made.
tot_req = tot_conn = 0
for phase in ("short", "keepalive"):
    s = json.load(open(f"{out}/{phase}.json"))["summary"]
    tot_req += s["requests"]
    tot_conn += s["connections_opened"]
    print(f"{phase:<10} requests {s['requests']:,}  ok {s['ok']:,}  failed {s['failed']:,}  "
          f"connections {s['connections_opened']:,}  missed starts {s.get('missed_starts', 0):,}  "
          f"ok/s {s['ok_per_s']:,.0f}")
    if s["requests"] != s["ok"] + s["failed"]:
        fails.append(f"{phase}: requests {s['requests']} != ok {s['ok']} + failed {s['failed']}")
    if s["failed"] != 0:
        fails.append(f"{phase}: {s['failed']} failed ({s['errors']})")
srv = json.loads(open(f"{out}/serve.json").read().strip().splitlines()[-1])
print(f"serve      accepted {srv['accepted']:,}  requests {srv['requests']:,}")
if srv["requests"] != tot_req or srv["accepted"] != tot_conn:
    fails.append(f"serve counted {srv['accepted']} connections / {srv['requests']} requests, "
                 f"the runs {tot_conn} / {tot_req}")
print(f"\nsamples: {path}")
if fails:
    print("SOAK FAILED:\n  " + "\n  ".join(fails))
    sys.exit(1)
print("soak: flat, accounting exact")
EOF
