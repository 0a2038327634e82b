# SPDX-License-Identifier: MIT
"""What portex watch costs (issue 20): one tick over 30,000 sockets, CPU at 1 s ticks, and
the tracepoints' cost on a connect-heavy load.

A dump visits every socket of the kernel's established hash, which every namespace shares
unless it was made with a private one (the spike of issue 20, 1c). So each socket mix is
made in a namespace B created inside a namespace A whose net.ipv4.tcp_child_ehash_entries
is 65536: B gets a hash of its own, and the host's sockets (other sessions' tests leave
thousands) are not walked. Both namespaces are this script's and go with it; the host's
sysctls are only read. The machine is shared: the load average and the host's TCP sockets
are recorded beside each figure.

  1. tick cost: `watch --interval 200ms --count 31` over each mix, every tick's dump and
     tick time from its plain lines; ticks 1, 11, 21, 31 also walk the bind hash
     (bound-inactive sockets) and read the sysctls, reported apart.
  2. CPU at 1 s ticks: `watch -d 60s` over 30,000 TIME_WAIT kept steady by 500 new
     connections a second (after a 60 s warm-up), and over a still 30,000; user+sys of the
     watch (wait4) over its wall time.
  3. the tracepoints: `portex run --close server -c 64 -t 1 -d 5s` against `portex serve`
     in a namespace, without and with a watch (tracing on) running, alternating; medians.

Usage: watch.py PORTEX [--reps N] [--out FILE]; root. Stages --stage outer/inner are
this script re-run inside the namespaces.
"""
import argparse
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import write_section  # noqa: E402

# The socket makers, run inside namespace B (python3 -c FILLER MODE ...):
#   tw N PORT            N connections to a listener of its own, the client closing first
#                        (client TIME_WAIT), then waits
#   hold-server PORT E   a listener that accepts E connections and holds them
#   hold-client PORT E   E connections to PORT, held
#   rate PORT R          a listener of its own and R short connections a second, for ever
FILLER = r"""
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
mode, args = sys.argv[1], [int(float(a)) for a in sys.argv[2:]]
def listener(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(4096); return s
def one(l, port):
    c = socket.create_connection(("127.0.0.1", port)); a, _ = l.accept()
    c.close(); a.close()
held = []
if mode == "tw":
    n, port = args; l = listener(port)
    for i in range(n):
        one(l, port)
elif mode == "hold-server":
    port, e = args; l = listener(port); print("listening", flush=True)
    for i in range(e):
        held.append(l.accept()[0])
elif mode == "hold-client":
    port, e = args
    for i in range(e):
        held.append(socket.create_connection(("127.0.0.1", port)))
elif mode == "rate":
    port, r = args; l = listener(port); print("ready", flush=True)
    t0 = time.monotonic(); i = 0
    while True:
        time.sleep(max(0.0, t0 + i / r - time.monotonic())); one(l, port); i += 1
print("ready", flush=True)
while True:
    time.sleep(3600)
"""

MIXES = {
    "empty": "nothing but lo (the walk of an empty private hash)",
    "tw30k": "30,000 TIME_WAIT (client side) and 1 listener",
    "mixed": "28,000 TIME_WAIT and 1,000 held connections (2,000 ESTABLISHED sockets)",
    "est30k": "30,000 ESTABLISHED (15,000 connections, both ends)",
    "steady500": "500 new connections a second for 60 s first: about 30,000 TIME_WAIT, steady",
    "still30k": "30,000 TIME_WAIT made at once, nothing after",
}


def host_state():
    """The load, and the TCP sockets of the host's namespace (pid 1's: this runs inside the
    bench's own namespaces, whose /proc/net is theirs)."""
    load = open("/proc/loadavg").read().split()[:3]
    tcp = open("/proc/1/net/sockstat").read()
    m = re.search(r"TCP: inuse (\d+) .* tw (\d+)", tcp)
    return {"load": " ".join(load), "host_tcp_inuse": int(m.group(1)) if m else -1,
            "host_tw": int(m.group(2)) if m else -1}


def filler(*args, wait=True):
    p = subprocess.Popen([sys.executable, "-c", FILLER, *map(str, args)],
                         stdout=subprocess.PIPE, text=True)
    if wait:
        line = p.stdout.readline()
        if "ready" not in line and "listening" not in line:
            raise RuntimeError(f"filler {args} did not start: {line!r}")
    return p


def make_mix(mix):
    """The sockets of a mix in this namespace; the processes that hold them."""
    procs = []
    if mix in ("tw30k", "still30k"):
        procs.append(filler("tw", 30000, 8080))
    elif mix == "mixed":
        procs.append(filler("tw", 28000, 8080))
        procs.append(filler("hold-server", 8081, 1000))
        procs.append(filler("hold-client", 8081, 1000))
        procs[-2].stdout.readline()
    elif mix == "est30k":
        procs.append(filler("hold-server", 8081, 15000))
        procs.append(filler("hold-client", 8081, 15000))
        procs[-2].stdout.readline()
    elif mix == "steady500":
        procs.append(filler("rate", 8080, 500))
        time.sleep(60)
    time.sleep(1)  # the last closes settle
    return procs


def ticks(portex):
    """31 ticks at 200 ms: each tick's sockets, dump and tick times."""
    out = subprocess.run([portex, "watch", "--interval", "200ms", "--count", "31"],
                         capture_output=True, text=True, timeout=120).stdout
    rows = []
    for line in out.splitlines():
        if line.startswith("tick="):
            kv = dict(re.findall(r"(\w+)=(\S+)", line))
            rows.append({k: float(kv[k]) for k in ("tick", "sockets", "dump_ms", "tick_ms",
                                                    "tick_cpu_ms")})
    return rows


def cpu_of(portex, seconds):
    """A watch at 1 s ticks for `seconds`: CPU share of one core, and its document."""
    t0 = time.monotonic()
    p = subprocess.Popen([portex, "watch", "-d", f"{seconds}s", "-q", "--json", "-"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, _, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    doc = json.loads(out)
    return {"cpu_percent": 100 * (ru.ru_utime + ru.ru_stime) / wall, "wall_s": wall,
            "sockets": doc["cost"]["sockets_last_tick"], "ticks": doc["ticks"],
            "tick_ms": doc["cost"]["tick_ms"], "tick_cpu_ms": doc["cost"]["tick_cpu_ms"],
            "tracing": doc["tracing"]["on"]}


def stage_inner(portex, mix, part):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    open("/proc/sys/net/ipv4/ip_local_port_range", "w").write("1024 65535")
    open("/proc/sys/net/ipv4/tcp_tw_reuse", "w").write("0")
    ehash = int(open("/proc/sys/net/ipv4/tcp_ehash_entries").read())
    procs = make_mix(mix)
    try:
        state = host_state()
        result = ticks(portex) if part == "ticks" else cpu_of(portex, 60 if mix != "still30k"
                                                                 else 50)
        print(json.dumps({"ehash": ehash, "host": state, "result": result}), flush=True)
    finally:
        for p in procs:
            p.kill()


def stage_outer(portex, mix, part):
    # A's child namespaces get a private established hash of this size (6.1+).
    open("/proc/sys/net/ipv4/tcp_child_ehash_entries", "w").write("65536")
    os.execvp("unshare", ["unshare", "--net", sys.executable, __file__, portex, "--stage",
                          "inner", "--mix", mix, "--part", part])


def in_namespaces(portex, mix, part):
    """Runs one mix in B (inside A): the inner stage's JSON."""
    p = subprocess.run(["unshare", "--net", sys.executable, __file__, portex, "--stage",
                        "outer", "--mix", mix, "--part", part],
                       capture_output=True, text=True, timeout=600, start_new_session=True)
    if p.returncode != 0:
        raise RuntimeError(f"{mix}: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---- the tracepoints' cost --------------------------------------------------------------

LOAD = r"""
ip link set lo up
"$1" serve --listen 127.0.0.1:8080 -t 1 >/dev/null 2>&1 & S=$!
trap 'kill $S 2>/dev/null' EXIT
sleep 0.5
for i in $(seq "$2"); do
  for mode in off on; do
    if [ $mode = on ]; then
      "$1" watch --interval 1s > /tmp/pxbench-watch.$$ 2>/dev/null & W=$!
      until grep -q '^tick=1 ' /tmp/pxbench-watch.$$ 2>/dev/null; do sleep 0.05; done
    fi
    echo "$mode $("$1" run -q -t 1 -c 64 -d 5s --close server --json - http://127.0.0.1:8080/ \
      | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print(s["ok"]/s["duration_s"], s["failed"])')"
    if [ $mode = on ]; then kill -INT $W; wait $W; fi
    sleep 1
  done
done
rm -f /tmp/pxbench-watch.$$
kill $S; wait $S
"""


def tracing_cost(portex, reps):
    p = subprocess.run(["unshare", "--net", "bash", "-c", LOAD, "x", portex, str(reps)],
                       capture_output=True, text=True, timeout=120 * reps,
                       start_new_session=True)
    runs = {"off": [], "on": []}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in runs:
            runs[parts[0]].append((float(parts[1]), int(parts[2])))
    if not runs["off"] or not runs["on"]:
        raise RuntimeError(f"the tracing runs gave no figures: {p.stdout[-1000:]!r} "
                           f"{p.stderr[-1000:]!r}")
    return runs


# ---- the report -------------------------------------------------------------------------

def tick_rows(name, r):
    rows = r["result"]
    slow = [x for x in rows if (x["tick"] - 1) % 10 == 0]
    regular = [x for x in rows if (x["tick"] - 1) % 10 != 0]
    med = lambda xs: statistics.median(xs) if xs else float("nan")  # noqa: E731
    socks = int(med([x["sockets"] for x in rows]))
    return (f"| {MIXES[name]} | {socks:,} | {med([x['dump_ms'] for x in regular]):.2f} | "
            f"{med([x['tick_ms'] for x in regular]):.2f} | "
            f"{med([x['tick_cpu_ms'] for x in regular]):.2f} | "
            f"{max(x['tick_ms'] for x in regular):.2f} | "
            f"{med([x['tick_ms'] for x in slow]):.2f} | {r['ehash']} | {r['host']['load']} | "
            f"{r['host']['host_tcp_inuse']:,} + {r['host']['host_tw']:,} |")


def report(args, tick_res, cpu_res, trace):
    lines = ["# portex watch", "",
             f"Measured by `bench/watch.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
             f"{platform.node()}, {os.cpu_count()} CPUs, Linux {platform.release()}; the machine "
             "was shared with other sessions (the load average and the host's TCP sockets are "
             "beside each figure). Every mix is made in a namespace with a private established "
             "hash (made inside a namespace whose `tcp_child_ehash_entries` is 65536), so the "
             "host's sockets are not walked; tracing was on (root) in every watch, so the "
             "tracer's work for every connect() on the machine is included.", "",
             "## One tick", "",
             "`watch --interval 200ms --count 31`, every tick's times from its plain lines. "
             "Ticks 2-10, 12-20, 22-30 (regular): one dump of both families, the sums, owners, "
             "TcpExt. Ticks 1, 11, 21, 31 also walk the bind hash for bound-inactive sockets and "
             "read the sysctls (the first also scans every process's fds for owners).", "",
             "Wall times count the time a tick waited for a core on this shared machine; the "
             "CPU time (user and system, the kernel's walk included) is what the tick costs.", "",
             "| sockets in the namespace | records | dump ms (p50) | tick ms (p50) | "
             "tick CPU ms (p50) | tick ms (max) | every 10th tick ms (p50) | hash | load | "
             "host TCP (in use + TIME_WAIT) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    lines += [tick_rows(name, r) for name, r in tick_res.items()]
    lines += ["", "## CPU at 1 s ticks", "",
              "`watch -d 60s -q --json -` (50 s for the still mix, before its TIME_WAIT "
              "expires): user+sys of the watch (wait4) over its wall time.", "",
              "| sockets | records at the end | ticks | CPU, % of one core | tick ms p50 / max | "
              "tick CPU ms p50 / max | load | host TCP |", "|---|---:|---:|---:|---:|---:|---|---:|"]
    for name, r in cpu_res.items():
        x = r["result"]
        lines.append(f"| {MIXES[name]} | {x['sockets']:,} | {x['ticks']} | "
                     f"{x['cpu_percent']:.2f} | {x['tick_ms']['p50']:.1f} / "
                     f"{x['tick_ms']['max']:.1f} | {x['tick_cpu_ms']['p50']:.1f} / "
                     f"{x['tick_cpu_ms']['max']:.1f} | {r['host']['load']} | "
                     f"{r['host']['host_tcp_inuse']:,} + {r['host']['host_tw']:,} |")
    off = [r for r, f in trace["off"]]
    on = [r for r, f in trace["on"]]
    mo, mn = statistics.median(off), statistics.median(on)
    lines += ["", "## The tracepoints on a connect-heavy load", "",
              f"`portex run -t 1 -c 64 -d 5s --close server` against `portex serve -t 1` in a "
              f"namespace, {len(off)} runs without and {len(on)} with a `portex watch` "
              "(tracing on: EADDRNOTAVAIL and sys_enter/sys_exit_connect on every CPU) running, "
              "alternating. Client, server and watch share the 2 cores.", "",
              "| watch | ok/s, each run | median | ratio |", "|---|---|---:|---:|",
              f"| off | {', '.join(f'{x:,.0f}' for x in off)} | {mo:,.0f} | 1.00 |",
              f"| on | {', '.join(f'{x:,.0f}' for x in on)} | {mn:,.0f} | {mn / mo:.2f} |",
              "", f"Spread of the runs without watch: {min(off):,.0f} to {max(off):,.0f} "
              f"({(max(off) - min(off)) / mo:.0%} of the median); failed requests: "
              f"{sum(f for _, f in trace['off']) + sum(f for _, f in trace['on'])}."]
    write_section(args.out, "watch.py", "\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portex")
    ap.add_argument("--stage", default="")
    ap.add_argument("--mix", default="")
    ap.add_argument("--part", default="ticks")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    portex = os.path.abspath(args.portex)
    if args.stage == "outer":
        return stage_outer(portex, args.mix, args.part)
    if args.stage == "inner":
        return stage_inner(portex, args.mix, args.part)
    if os.geteuid() != 0:
        sys.exit("bench/watch.py: needs root (namespaces of its own, tracing)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tick_res = {}
    for mix in ("empty", "tw30k", "mixed", "est30k"):
        tick_res[mix] = in_namespaces(portex, mix, "ticks")
        print(tick_rows(mix, tick_res[mix]), flush=True)
    cpu_res = {}
    for mix in ("steady500", "still30k"):
        cpu_res[mix] = in_namespaces(portex, mix, "cpu")
        print(mix, cpu_res[mix], flush=True)
    trace = tracing_cost(portex, args.reps)
    print(trace, flush=True)
    report(args, tick_res, cpu_res, trace)
    print(f"wrote the watch section of {args.out}")


if __name__ == "__main__":
    main()
