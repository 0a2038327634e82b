# SPDX-License-Identifier: MIT
"""Verdict of a bench/soak.sh run: flat RSS and fds, exact accounting.

Usage: soak_check.py OUTDIR (soak.csv, params, short.txt, keepalive.txt and
serve.json written by soak.sh). Prints the samples and the checks; exit 1 on
growth or a count that does not add up.
"""
import csv
import json
import re
import statistics
import sys

out = sys.argv[1]
path = f"{out}/soak.csv"
serve_idle_fds, serve_end_fds, conns = open(f"{out}/params").read().split()
conns = int(conns)
rows = list(csv.DictReader(open(path)))
fails = []

print(f"{'t_s':>5} {'phase':<10} {'run RSS kB':>11} {'run fds':>8} {'serve RSS kB':>13} {'serve fds':>10}")
for r in rows:
    print(f"{r['t_s']:>5} {r['phase']:<10} {r['run_rss_kb']:>11} {r['run_fds']:>8} "
          f"{r['serve_rss_kb']:>13} {r['serve_fds']:>10}")
print()

# Like with like: each phase apart (the run is a new process in each; serve
# holds different buffers for short and keep-alive connections). The first
# third of a phase's samples (at most 3) is warm-up.
print(f"{'check':<28} {'start':>9} {'end':>9}  verdict")
for phase in ("short", "keepalive"):
    ph = [r for r in rows if r["phase"] == phase]
    if len(ph) < 3:
        fails.append(f"{phase}: only {len(ph)} samples")
        continue
    warm = min(3, len(ph) // 3)
    base = ph[warm:warm + 3]
    post = ph[warm:]
    k = max(1, len(post) // 3)
    for who in ("run", "serve"):
        # RSS: the baseline is the median of the first 3 samples after the
        # warm-up, the end the last sample; it grows when more than 10% and
        # more than 2 MB above the baseline.
        rss0 = statistics.median(int(r[f"{who}_rss_kb"]) for r in post[:3])
        rss1 = int(ph[-1][f"{who}_rss_kb"])
        bad = rss1 > rss0 * 1.10 and rss1 - rss0 > 2048
        print(f"{phase + ' ' + who + ' RSS kB':<28} {rss0:>9.0f} {rss1:>9}  "
              f"{'GROWS' if bad else 'flat'}")
        if bad:
            fails.append(f"{phase}: {who} RSS {rss0:.0f} -> {rss1} kB")
        # fds: a sample counts the process's own fds plus the connections in
        # flight at that instant (0 to -c). The floor (fewest fds in the first
        # and in the last third of the samples) is the process's own; a leak
        # lifts it. Slack: a third's every sample may catch a few in flight.
        fds = [int(r[f"{who}_fds"]) for r in post]
        floor0, floor1, peak = min(fds[:k]), min(fds[-k:]), max(fds)
        slack = max(2, conns // 16)
        bad = floor1 > floor0 + slack or peak > floor0 + conns + slack
        print(f"{phase + ' ' + who + ' fds floor':<28} {floor0:>9} {floor1:>9}  "
              f"{'GROWS' if bad else 'flat'} (peak {peak}, at most {floor0 + conns + slack})")
        if bad:
            fails.append(f"{phase}: {who} fds floor {floor0} -> {floor1}, peak {peak}")
# serve with no load: exactly as many fds after the soak as before it.
bad = serve_end_fds != serve_idle_fds
print(f"{'serve fds, idle':<28} {serve_idle_fds:>9} {serve_end_fds:>9}  {'LEAK' if bad else 'same'}")
if bad:
    fails.append(f"serve idle fds {serve_idle_fds} -> {serve_end_fds}")
print()

def text_summary(path):
    """The accounting lines of run's text report, as numbers."""
    t = open(path).read()

    def num(pattern):
        m = re.search(pattern, t)
        return int(m.group(1).replace(",", "")) if m else 0
    s = {"requests": num(r"requests +([\d,]+) \(ok"), "ok": num(r"\(ok ([\d,]+),"),
         "failed": num(r"failed ([\d,]+)\)"),
         "connections_opened": num(r"connections opened +([\d,]+)"),
         "missed_starts": num(r"missed starts +([\d,]+)")}
    m = re.search(r"ok/s ([\d.]+)\)", t)
    s["ok_per_s"] = float(m.group(1)) if m else 0.0
    causes = re.search(r"failures by cause\n((?:  .*\n)+)", t)
    s["errors"] = causes.group(1).strip() if causes else "{}"
    return s


# Accounting: every request is ok or failed; none fails against serve; serve
# saw exactly the connections and requests the runs made.
tot_req = tot_conn = 0
for phase in ("short", "keepalive"):
    s = text_summary(f"{out}/{phase}.txt")
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
