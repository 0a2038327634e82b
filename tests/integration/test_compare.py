# SPDX-License-Identifier: MIT
"""portex compare: modes side by side; sysctls restored on every exit path."""
import json
import os
import signal
import subprocess
import time

from pxtest import PORTEX, Serve, check, finish, run


def modes_on_host_loopback():
    srv = Serve()
    p = subprocess.run([PORTEX, "compare", "--no-drain", "-r", "500", "-d", "1s", "-q",
                        "--json", "-", srv.url], capture_output=True, text=True, timeout=120)
    srv.stop()
    check(p.returncode == 0, f"compare exits 0 ({p.returncode}: {p.stderr.strip()[-200:]})")
    doc = json.loads(p.stdout)
    names = [m["name"] for m in doc["modes"]]
    check(doc["command"] == "compare" and names == ["keepalive", "server-close", "rst", "short"],
          f"default modes without --allow-sysctl ({names})")
    s = {m["name"]: m["summary"] for m in doc["modes"]}
    check(s["keepalive"]["connections_opened"] < 50 and s["keepalive"]["ok"] >= 475,
          f"keepalive: few connections, ~500 ok ({s['keepalive']['connections_opened']}, {s['keepalive']['ok']})")
    check(s["server-close"]["connections_opened"] == s["server-close"]["ok"] >= 475,
          "server-close: one connection per request")
    check("compare" in p.stderr and "verdict" in p.stderr, "the table goes to stderr with --json -")


def refuses_sysctl_modes_without_flag():
    p = subprocess.run([PORTEX, "compare", "--modes", "short-reuse", "http://127.0.0.1:9/"],
                       capture_output=True, text=True)
    check(p.returncode == 2 and "--allow-sysctl" in p.stderr,
          f"reuse modes need --allow-sysctl: exit 2 ({p.returncode}: {p.stderr.strip()})")
    p = subprocess.run([PORTEX, "compare", "-k", "http://127.0.0.1:9/"], capture_output=True, text=True)
    check(p.returncode == 2 and "-k" in p.stderr, "compare refuses -k (modes decide)")


def drain_waits_and_sigint_stops_it():
    srv = Serve()
    p = subprocess.Popen([PORTEX, "compare", "--modes", "short,keepalive", "-n", "200", "-c", "4",
                          "--port-range", "40000-40199",
                          "--json", "-", srv.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    time.sleep(3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    srv.stop()
    check("TIME_WAIT sockets toward" in err, "between modes it waits for TIME_WAIT, with a countdown")
    check(p.returncode == 130, f"SIGINT during the drain: exit 130 ({p.returncode})")
    doc = json.loads(out)
    check(doc["modes"][0]["ran"] and doc["modes"][0]["summary"]["ok"] == 200,
          "the finished mode is reported")
    check(not doc["modes"][1]["ran"], "the next mode did not run")


NETNS = r"""
ip link set lo up
before=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)
"$1" serve --listen 127.0.0.1:8080 -t 1 >/dev/null 2>&1 &
srv=$!
sleep 0.3
if [ "$2" = normal ]; then
  "$1" compare --allow-sysctl --no-drain --modes short-noreuse,short-reuse \
      --port-range 40000-40099 -r 500 -d 2s -q --json /tmp/portex-cmp.json http://127.0.0.1:8080/ >/dev/null 2>&1
  echo "rc=$?"
else
  "$1" compare --allow-sysctl --no-drain --modes short-noreuse,short-reuse \
      -r 500 -d 5s -q http://127.0.0.1:8080/ >/dev/null 2>&1 &
  pid=$!
  sleep 1.5
  echo "during=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)"
  kill -TERM $pid
  wait $pid
  echo "rc=$?"
fi
echo "before=$before after=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)"
echo "markers=$(ls /run/portex 2>/dev/null | grep -c "^$(stat -L -c %i /proc/self/ns/net)-" || true)"
kill -TERM $srv; wait $srv
"""


def sysctl_restored_in_namespace():
    if os.geteuid() != 0:
        print("note: not root, the --allow-sysctl cases are not run")
        return
    host = open("/proc/sys/net/ipv4/tcp_tw_reuse").read()
    p = subprocess.run(["unshare", "--net", "bash", "-c", NETNS, "x", PORTEX, "normal"],
                       capture_output=True, text=True, timeout=120)
    kv = dict(w.split("=", 1) for w in p.stdout.split() if "=" in w)
    check(kv.get("rc") == "0", f"compare --allow-sysctl exits 0 ({p.stdout.strip()})")
    check(kv.get("before") == kv.get("after"), f"normal end: tcp_tw_reuse restored ({kv})")
    check(kv.get("markers") == "0", "normal end: no guard marker left")
    doc = json.load(open("/tmp/portex-cmp.json"))
    os.unlink("/tmp/portex-cmp.json")
    s = {m["name"]: m for m in doc["modes"]}
    no, re_ = s["short-noreuse"], s["short-reuse"]
    check(no["settings"]["client_tcp_tw_reuse"] == 0 and re_["settings"]["client_tcp_tw_reuse"] == 1,
          "each mode ran with its tcp_tw_reuse")
    check(98 <= no["summary"]["ok"] <= 102, f"short-noreuse: 100 ports, ~100 ok ({no['summary']['ok']})")
    check(re_["summary"]["ok"] >= 180, f"short-reuse: reuse lifts it ({re_['summary']['ok']})")
    p = subprocess.run(["unshare", "--net", "bash", "-c", NETNS, "x", PORTEX, "sigterm"],
                       capture_output=True, text=True, timeout=120)
    kv = dict(w.split("=", 1) for w in p.stdout.split() if "=" in w)
    check(kv.get("during") == "0", f"mid-run the namespace had tcp_tw_reuse=0 ({kv.get('during')})")
    check(kv.get("rc") == "130", f"SIGTERM mid-run: exit 130 ({kv.get('rc')})")
    check(kv.get("before") == kv.get("after"), f"SIGTERM mid-run: tcp_tw_reuse restored ({kv})")
    check(kv.get("markers") == "0", "SIGTERM: no guard marker left")
    check(open("/proc/sys/net/ipv4/tcp_tw_reuse").read() == host, "host tcp_tw_reuse untouched")


if __name__ == "__main__":
    modes_on_host_loopback()
    refuses_sysctl_modes_without_flag()
    drain_waits_and_sigint_stops_it()
    sysctl_restored_in_namespace()
    finish()
