# SPDX-License-Identifier: MIT
"""portex compare: modes side by side; sysctls restored on every exit path."""
import json
import os
import signal
import subprocess
import tempfile
import time

from pxtest import (PORTEX, WAIT_LISTEN, Serve, books, can_run, check, finish, in_new_netns,
                    isolate, reuse_bound)


def modes_on_host_loopback():
    srv = Serve()
    p = subprocess.run([PORTEX, "compare", "--no-drain", "-r", "500", "-d", "1s", "-q",
                        "--json", "-", srv.url], capture_output=True, text=True, timeout=120)
    counts = srv.stop()
    check(p.returncode == 0, f"compare exits 0 ({p.returncode}: {p.stderr.strip()[-200:]})")
    doc = json.loads(p.stdout)
    names = [m["name"] for m in doc["modes"]]
    check(doc["command"] == "compare" and names == ["keepalive", "server-close", "rst", "short"],
          f"default modes without --allow-sysctl ({names})")
    s = {m["name"]: m["summary"] for m in doc["modes"]}
    for m in doc["modes"]:
        # -r 500 -d 1s schedules exactly 500 starts; against serve on loopback none can fail.
        books(m["name"], m, 500)
    for name, x in s.items():
        check(x["failed"] == 0 and x["errors"] == {}, f"{name}: nothing fails ({x['errors']})")
    ka = s["keepalive"]
    check(0 < ka["connections_opened"] <= 64 and ka["connections_opened"] < ka["ok"],
          f"keepalive: at most -c 64 connections, fewer than the requests "
          f"({ka['connections_opened']}, {ka['ok']})")
    for name in ("server-close", "rst", "short"):
        check(s[name]["connections_opened"] == s[name]["requests"],
              f"{name}: one connection per request ({s[name]['connections_opened']}, {s[name]['requests']})")
    opened = sum(x["connections_opened"] for x in s.values())
    answered = sum(x["ok"] for x in s.values())
    check(counts["accepted"] == opened and counts["requests"] == answered,
          f"serve accepted every connection and answered every request "
          f"({counts} vs {opened} opened, {answered} ok)")
    check("compare" in p.stderr and "verdict" in p.stderr, "the table goes to stderr with --json -")


def refuses_sysctl_modes_without_flag():
    p = subprocess.run([PORTEX, "compare", "--modes", "short-reuse", "http://127.0.0.1:9/"],
                       capture_output=True, text=True)
    check(p.returncode == 2 and "--allow-sysctl" in p.stderr,
          f"reuse modes need --allow-sysctl: exit 2 ({p.returncode}: {p.stderr.strip()})")
    p = subprocess.run([PORTEX, "compare", "-k", "http://127.0.0.1:9/"], capture_output=True, text=True)
    check(p.returncode == 2 and "-k" in p.stderr, "compare refuses -k (modes decide)")


DRAIN = WAIT_LISTEN + r"""
ip link set lo up
echo "40000 40199" > /proc/sys/net/ipv4/ip_local_port_range
"$1" serve --listen 127.0.0.1:8080 -t 1 >/dev/null 2>&1 &
srv=$!
trap 'kill -TERM $srv 2>/dev/null' EXIT
wait_listen 8080 || exit 1
"$1" compare --modes short,keepalive -n 200 -c 4 --port-range 40000-40199 \
    --json "$2/c.json" http://127.0.0.1:8080/ 2>"$2/c.err" &
pid=$!
sleep 3
kill -INT $pid
wait $pid
echo "rc=$?"
kill -TERM $srv; wait $srv
trap - EXIT
"""


def drain_waits_and_sigint_stops_it():
    """The namespace's range is the --port-range: no fresh window, so compare waits."""
    if not can_run("compare's drain wait (a namespace whose range is the --port-range)",
                   root=True, tools=("unshare", "ip", "ss")):
        return
    with tempfile.TemporaryDirectory() as d:
        p = in_new_netns(DRAIN, PORTEX, d)
        err = open(f"{d}/c.err").read()
        doc = json.load(open(f"{d}/c.json"))
    check("TIME_WAIT sockets toward" in err, "between modes it waits for TIME_WAIT, with a countdown")
    check("rc=130" in p.stdout, f"SIGINT during the drain: exit 130 ({p.stdout.strip()})")
    first = doc["modes"][0]
    if first["ran"]:
        books("short -n 200", first)
    check(first["ran"] and first["summary"]["ok"] == 200 and first["summary"]["failed"] == 0,
          f"the finished mode is reported, 200 ok over 200 ports "
          f"({ {k: first['summary'][k] for k in ('ok', 'failed', 'errors')} if first['ran'] else 'not run'})")
    check(first["isolation"]["port_window"] == "40000-40199",
          f"the first mode had the given window ({first['isolation']})")
    check(not doc["modes"][1]["ran"], "the next mode did not run")


def fresh_port_windows_instead_of_waiting():
    """Each mode takes its own 200-port window: no minute-long wait between short modes."""
    srv = Serve()
    t0 = time.monotonic()
    p = subprocess.run([PORTEX, "compare", "--modes", "short,short,keepalive", "-r", "500",
                        "-d", "2s", "--port-range", "40000-40199", "--json", "-", srv.url],
                       capture_output=True, text=True, timeout=120)
    wall = time.monotonic() - t0
    srv.stop()
    check(p.returncode == 0, f"compare exits 0 ({p.returncode}: {p.stderr.strip()[-200:]})")
    check(wall < 40, f"three 2 s modes, no drain wait ({wall:.1f} s)")
    check("waiting for them to expire" not in p.stderr, "no wait for TIME_WAIT")
    doc = json.loads(p.stdout)
    for m in doc["modes"]:
        books(m["name"], m, 1000)
    iso = [m["isolation"] for m in doc["modes"]]
    windows = [i["port_window"] for i in iso]
    check(windows == ["40000-40199", "40200-40399", "40400-40599"],
          f"each mode names its own port window ({windows})")
    check(all(i["method"] == "port-window" and i["waited_s"] == 0 for i in iso),
          f"isolated by port window, no wait ({[i['method'] for i in iso]})")
    second = doc["modes"][1]["summary"]
    check(second["ok"] >= 195, f"the second short mode had its 200 ports free ({second['ok']} ok)")
    ka = doc["modes"][2]
    check(ka["predicted_ceiling_per_s"] == "not port-bound",
          f"keepalive's predicted rate: not port-bound ({ka['predicted_ceiling_per_s']})")
    check("ports 40200-40399, a window of its own" in p.stderr, "a line per mode says what was done")
    check("not port-bound" in p.stderr and "1,446,787" not in p.stderr,
          "the table says not port-bound for keepalive")


def fresh_sources_instead_of_waiting():
    """Four --source addresses and two modes: two addresses of its own for each."""
    srv = Serve()
    p = subprocess.run([PORTEX, "compare", "--modes", "short,short", "-n", "300", "-c", "4",
                        "--source", "127.0.0.2-127.0.0.5", "-q", "--json", "-", srv.url],
                       capture_output=True, text=True, timeout=120)
    srv.stop()
    check(p.returncode == 0, f"compare with --source exits 0 ({p.returncode}: {p.stderr[-200:]})")
    iso = [m["isolation"] for m in json.loads(p.stdout)["modes"]]
    check([(i["method"], i["sources"]) for i in iso] == [("source", 2), ("source", 2)],
          f"each mode takes 2 of the 4 addresses ({iso})")
    check("127.0.0.4 and on, 2 addresses of its own" in p.stderr,
          "the second mode's line names its first address")


RERUN = WAIT_LISTEN + r"""
ip link set lo up
echo "40000 40399" > /proc/sys/net/ipv4/ip_local_port_range
echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse
"$1" serve --listen 127.0.0.1:8080 -t 1 >/dev/null 2>&1 &
srv=$!
trap 'kill -TERM $srv 2>/dev/null' EXIT
wait_listen 8080 || exit 1
url=http://127.0.0.1:8080/
# The same compare twice in a row: the second finds the first's TIME_WAIT in its windows.
for run in a b; do
  "$1" compare -q --modes short,short -r 500 -d 1s --port-range 40000-40099 \
      --json "$2/$run.json" $url >"$2/$run.txt" 2>&1
  echo "rc_$run=$?"
done
# Every window of the range is full now: --no-drain runs anyway and says why.
"$1" compare -q --no-drain --modes short -r 500 -d 1s --port-range 40000-40099 \
    --json "$2/c.json" $url >"$2/c.txt" 2>&1
echo "rc_c=$?"
"$1" compare -q --no-drain --modes short -n 50 -c 1 --json "$2/d.json" $url >"$2/d.txt" 2>&1
echo "rc_d=$?"
# Without --no-drain it waits for them at the start; SIGINT ends the wait.
"$1" compare --modes short -r 500 -d 1s --port-range 40000-40099 --json "$2/e.json" $url \
    >/dev/null 2>"$2/e.err" &
pid=$!
sleep 2
kill -INT $pid
wait $pid
echo "rc_e=$?"
kill -TERM $srv; wait $srv
trap - EXIT
"""


def rerun_moves_to_clean_windows():
    """A compare rerun within 60 s finds its windows full of the last run's TIME_WAIT: it
    moves to clean windows and gets the same ok; with no clean window left it waits, or with
    --no-drain says why."""
    if not can_run("compare rerun within 60 s (a namespace of its own, tcp_tw_reuse=0)",
                   root=True, tools=("unshare", "ip", "ss")):
        return
    with tempfile.TemporaryDirectory() as d:
        p = in_new_netns(RERUN, PORTEX, d)
        kv = dict(w.split("=", 1) for w in p.stdout.split() if "=" in w)
        docs = {}
        for run in "abcde":
            try:
                docs[run] = json.load(open(f"{d}/{run}.json"))
            except (OSError, ValueError):
                docs[run] = None
        text = {run: open(f"{d}/{run}.txt").read() for run in "abcd"}
        err_e = open(f"{d}/e.err").read()
    check(all(kv.get(f"rc_{r}") == "0" for r in "abcd") and all(docs[r] for r in "abcd"),
          f"the four compares exit 0 and write their JSON ({kv} {p.stderr.strip()[-200:]})")
    if not all(docs[r] for r in "abcd"):
        return
    a, b = docs["a"]["modes"], docs["b"]["modes"]
    for name, doc in (("first run", a), ("second run", b)):
        for m in doc:
            books(f"{name} {m['name']}", m, 500)
    win = lambda modes: [m["isolation"]["port_window"] for m in modes]
    ok = lambda modes: [m["summary"]["ok"] for m in modes]
    check(win(a) == ["40000-40099", "40100-40199"], f"first run: the given window, then the next ({win(a)})")
    check(win(b) == ["40200-40299", "40300-40399"],
          f"second run: the first run's windows are full of TIME_WAIT, it moves on ({win(b)})")
    check(ok(a) == [100, 100] and ok(b) == ok(a),
          f"100 ports, tcp_tw_reuse=0: exactly 100 ok in every mode of both runs ({ok(a)}, {ok(b)})")
    check([m["isolation"]["method"] for m in a + b] == ["port-window"] * 4 and
          all(m["isolation"]["waited_s"] == 0 for m in a + b), "all four by port window, no wait")
    note = b[0]["isolation"].get("note", "")
    check("passed over 2 windows (the first 40000-40099)" in note and "TIME_WAIT" in note,
          f"the second run's JSON isolation says which windows it passed over ({note!r})")
    check("note" not in a[0]["isolation"] and "note" not in b[1]["isolation"],
          "no note where the window was clean")
    check("passed over 2 windows" in text["b"], "and so does its text")
    for run, why in (("c", "no window of its size left"), ("d", "the whole port range")):
        m = docs[run]["modes"][0]
        note = m["isolation"].get("note", "")
        check(m["summary"]["ok"] == 0 and "--no-drain: ran without waiting" in note and why in note,
              f"{run}: no clean ports, --no-drain: 0 ok and the note says why "
              f"({m['summary']['ok']} ok, {note!r})")
        check(why in text[run] and "--no-drain" in text[run], f"{run}: the text says why too")
    check(docs["d"]["modes"][0]["isolation"]["method"] == "as-given",
          "d: no --port-range, the ports as configured")
    check(kv.get("rc_e") == "130" and "waiting for them to expire" in err_e,
          f"no clean window, no --no-drain: waits at the start, SIGINT ends it "
          f"({kv.get('rc_e')}, {err_e.strip()[-200:]!r})")
    check(docs["e"] is not None and not docs["e"]["modes"][0]["ran"],
          "the interrupted wait: the mode did not run")


NETNS = WAIT_LISTEN + r"""
ip link set lo up
before=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)
"$1" serve --listen 127.0.0.1:8080 -t 1 >/dev/null 2>&1 &
srv=$!
trap 'kill -TERM $srv 2>/dev/null' EXIT
wait_listen 8080 || exit 1
if [ "$2" = normal ]; then
  "$1" compare --allow-sysctl --no-drain --modes short-noreuse,short-reuse \
      --port-range 40000-40099 -r 500 -d 2s -q --json "$3" http://127.0.0.1:8080/ >/dev/null 2>&1
  echo "rc=$?"
else
  "$1" compare --allow-sysctl --no-drain --modes short-noreuse,short-reuse \
      -r 500 -d 5s -q http://127.0.0.1:8080/ >/dev/null 2>&1 &
  pid=$!
  # The first mode sets tcp_tw_reuse=0: wait for it (at most 10 s), however slow the start.
  for _ in $(seq 100); do
    [ "$(cat /proc/sys/net/ipv4/tcp_tw_reuse)" = 0 ] && break
    sleep 0.1
  done
  echo "during=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)"
  kill -TERM $pid
  wait $pid
  echo "rc=$?"
fi
echo "before=$before after=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)"
echo "markers=$(ls /run/portex 2>/dev/null | grep -c "^$(stat -L -c %i /proc/self/ns/net)-" || true)"
kill -TERM $srv; wait $srv
trap - EXIT
"""


def sysctl_restored_in_namespace():
    if not can_run("compare --allow-sysctl in a namespace (sysctls restored)", root=True,
                   tools=("unshare", "ip", "ss")):
        return
    host = open("/proc/sys/net/ipv4/tcp_tw_reuse").read()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cmp.json")
        p = in_new_netns(NETNS, PORTEX, "normal", out)
        kv = dict(w.split("=", 1) for w in p.stdout.split() if "=" in w)
        check(kv.get("rc") == "0", f"compare --allow-sysctl exits 0 ({p.stdout.strip()} {p.stderr.strip()})")
        check(kv.get("before") == kv.get("after"), f"normal end: tcp_tw_reuse restored ({kv})")
        check(kv.get("markers") == "0", "normal end: no guard marker left")
        doc = json.load(open(out))
    s = {m["name"]: m for m in doc["modes"]}
    no, re_ = s["short-noreuse"], s["short-reuse"]
    check(no["settings"]["client_tcp_tw_reuse"] == 0 and re_["settings"]["client_tcp_tw_reuse"] == 1,
          "each mode ran with its tcp_tw_reuse")
    for name, m in s.items():
        x = m["summary"]
        books(name, m, 1000)
        check(x["failed"] == x["errors"].get("EADDRNOTAVAIL", 0),
              f"{name}: every failure is EADDRNOTAVAIL ({x['errors']})")
        check(x["connections_opened"] == x["ok"],
              f"{name}: every connection opened ends ok ({x['connections_opened']}, {x['ok']})")
    n, r = no["summary"], re_["summary"]
    # A fresh namespace, 100 ports, no reuse: each port carries exactly one connection.
    check(n["ok"] == 100, f"short-noreuse: 100 ports, exactly 100 ok ({n['ok']})")
    # Reuse after the delay (1 s by default) lifts it above the port count, never above
    # one use per port and delay.
    delay = re_["settings"].get("client_tcp_tw_reuse_delay", 1000) / 1000
    most = reuse_bound(100, re_, delay)
    check(100 < r["ok"] <= most, f"short-reuse: reuse lifts it past 100 ports ({r['ok']}, at most {most})")
    p = in_new_netns(NETNS, PORTEX, "sigterm")
    kv = dict(w.split("=", 1) for w in p.stdout.split() if "=" in w)
    check(kv.get("during") == "0", f"mid-run the namespace had tcp_tw_reuse=0 ({kv.get('during')})")
    check(kv.get("rc") == "130", f"SIGTERM mid-run: exit 130 ({kv.get('rc')})")
    check(kv.get("before") == kv.get("after"), f"SIGTERM mid-run: tcp_tw_reuse restored ({kv})")
    check(kv.get("markers") == "0", "SIGTERM: no guard marker left")
    check(open("/proc/sys/net/ipv4/tcp_tw_reuse").read() == host, "host tcp_tw_reuse untouched")


if __name__ == "__main__":
    isolate()
    modes_on_host_loopback()
    refuses_sysctl_modes_without_flag()
    drain_waits_and_sigint_stops_it()
    fresh_port_windows_instead_of_waiting()
    fresh_sources_instead_of_waiting()
    sysctl_restored_in_namespace()
    rerun_moves_to_clean_windows()
    finish()
