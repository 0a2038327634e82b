# SPDX-License-Identifier: MIT
"""portex doctor: values equal /proc, traps flagged, timestamps probed across namespaces."""
import json
import os
import subprocess
import time

from pxtest import PORTEX, Serve, can_run, check, finish

# Per-process names: another checkout may run this test at the same time. A veth name
# holds at most 15 characters.
TAG = f"pxd{os.getpid()}"
NS_C, NS_S = TAG + "c", TAG + "s"


def sh(*cmd, check_rc=True):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return p.stdout


def doctor(*args, ns=None):
    pre = ["ip", "netns", "exec", ns] if ns else []
    p = subprocess.run([*pre, PORTEX, "doctor", "--json", "-", *args],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr


def read_proc(name, ns=None):
    pre = ["ip", "netns", "exec", ns] if ns else []
    return sh(*pre, "cat", "/proc/sys/" + name.replace(".", "/")).strip()


def values_equal_proc():
    rc, doc, text = doctor()
    check(rc == 0, f"doctor without URL exits 0 ({rc})")
    lo, hi = read_proc("net.ipv4.ip_local_port_range").split()
    check(doc["sysctl"]["net.ipv4.ip_local_port_range"] == f"{lo} {hi}", "port range equals /proc")
    for name in ("net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_timestamps", "net.ipv4.tcp_fin_timeout",
                 "net.ipv4.tcp_max_tw_buckets", "net.core.somaxconn"):
        check(str(doc["sysctl"][name]) == read_proc(name), f"{name} equals /proc")
    # Ports held in the range by listeners or bound sockets (other tests' servers) are not usable.
    reserved = 0
    for part in filter(None, read_proc("net.ipv4.ip_local_reserved_ports").split(",")):
        a, _, b = part.partition("-")
        reserved += max(0, min(int(b or a), int(hi)) - max(int(a), int(lo)) + 1)
    check(doc["usable_ports"] + doc["bound_ports"] == int(hi) - int(lo) + 1 - reserved,
          f"usable_ports + bound_ports = range size - reserved ({doc['usable_ports']} + "
          f"{doc['bound_ports']}, {reserved} reserved)")
    c = {x["config"]: x for x in doc["ceilings"]}
    p = doc["usable_ports"]
    check(abs(c["short, tcp_tw_reuse=0"]["per_s"] - p / 60) < 0.01 * p / 60,
          f"no-reuse ceiling = P / 60 s ({c['short, tcp_tw_reuse=0']['per_s']})")
    check(abs(c["short, 4 source addresses"]["per_s"] / c["short, client closes (now)"]["per_s"] - 4) < 1e-6,
          "4 source addresses multiply the ceiling by 4")
    check("target" not in doc, "no target section without a URL")
    check("tcp_fin_timeout" in text and "tcp_tw_recycle" in text and "removed" in text,
          "the text corrects the two myths")


def unreachable_target():
    p = subprocess.run([PORTEX, "doctor", "http://127.0.0.1:9/"], capture_output=True, text=True)
    check(p.returncode == 1, f"unreachable target: exit 1 ({p.returncode})")
    check("ip_local_port_range" in p.stdout and "ECONNREFUSED" in p.stdout,
          "unreachable target: local section still printed, cause named")
    p = subprocess.run([PORTEX, "doctor", "ftp://x/"], capture_output=True, text=True)
    check(p.returncode == 2 and "expected http:// or https://" in p.stderr, "bad URL: exit 2")


def loopback_target():
    srv = Serve()
    rc, doc, _ = doctor(srv.url)
    srv.stop()
    t = doc["target"]
    check(rc == 0 and t["timestamps_negotiated"] is True and t["http_status"] == 200,
          f"loopback target: timestamps negotiated, HTTP 200 ({t})")
    check(not any("loopback only" in f for f in doc["flags"]),
          "reuse=2 toward 127.0.0.1: no loopback-only flag")


def setup_namespaces(fail_after_first=False):
    """Called inside the caller's try: whatever it made, the caller's finally removes."""
    for ns in (NS_C, NS_S):
        sh("ip", "netns", "add", ns)
        if fail_after_first:
            sh("ip", "netns", "exec", ns, "false")
    sh("ip", "link", "add", TAG + "-c", "netns", NS_C, "type", "veth", "peer", "name",
       TAG + "-s", "netns", NS_S)
    for ns, dev, ip in ((NS_C, TAG + "-c", "198.18.1.1/24"), (NS_S, TAG + "-s", "198.18.1.2/24")):
        sh("ip", "-n", ns, "addr", "add", ip, "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")


def remove_namespaces():
    # Deleting the namespaces deletes the veth pair in them too.
    for ns in (NS_C, NS_S):
        sh("ip", "netns", "del", ns, check_rc=False)


def ours_left():
    ns = sh("ip", "netns", "list").split()
    links = sh("ip", "-o", "link")
    return [n for n in ns if n.startswith(TAG)] + [l for l in links.splitlines() if TAG in l]


def failed_setup_leaves_nothing():
    # A set-up that fails part-way (here right after the first `ip netns add`) must not
    # leave a namespace behind: the set-up runs inside the try whose finally removes.
    raised = False
    try:
        setup_namespaces(fail_after_first=True)
    except RuntimeError:
        raised = True
    finally:
        remove_namespaces()
    check(raised, "the forced set-up failure is raised")
    check(ours_left() == [], f"a failed set-up leaves no namespace or veth ({ours_left()})")


def stale_marker_is_reported():
    # A compare killed with SIGKILL leaves its marker: doctor must say so.
    inode = sh("ip", "netns", "exec", NS_C, "stat", "-L", "-c", "%i", "/proc/self/ns/net").strip()
    dead = subprocess.Popen(["true"])
    dead.wait()
    os.makedirs("/run/portex", exist_ok=True)
    path = f"/run/portex/{inode}-net.ipv4.tcp_tw_reuse.guard"
    with open(path, "w") as f:
        f.write(f"net.ipv4.tcp_tw_reuse 2 {dead.pid}\n")
    try:
        rc, doc, _ = doctor(ns=NS_C)
        check(any("ended without restoring" in f and "it was 2 before, it is 1 now" in f
                  for f in doc["flags"]), f"a marker left by a killed run is reported ({doc['flags']})")
        rc, doc, _ = doctor()
        check(not any("ended without restoring" in f for f in doc["flags"]),
              "another namespace's marker is not reported here")
    finally:
        os.unlink(path)


def across_namespaces():
    srv = None
    try:
        setup_namespaces()
        srv = Serve(netns_cmd=["ip", "netns", "exec", NS_S], extra=["--listen", "198.18.1.2:8080"])
        url = "http://198.18.1.2:8080/"
        sh("ip", "netns", "exec", NS_S, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/tcp_timestamps")
        rc, doc, text = doctor(url, ns=NS_C)
        check(rc == 0 and doc["target"]["timestamps_negotiated"] is False,
              f"server tcp_timestamps=0: not negotiated ({doc['target']})")
        c = {x["config"]: x for x in doc["ceilings"]}
        p = doc["usable_ports"]
        check(abs(c["short, tcp_tw_reuse=1"]["per_s"] - p / 60) < 0.01 * p / 60,
              "without timestamps even reuse=1 gives the no-reuse ceiling")
        check(any("loopback only" in f for f in doc["flags"]),
              "client reuse=2 toward a veth target: loopback-only flag")
        sh("ip", "netns", "exec", NS_C, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse")
        rc, doc, text = doctor(url, ns=NS_C)
        check(any("cannot help against this server" in f for f in doc["flags"]),
              "reuse=1 with a server without timestamps is flagged")
        check(doc["sysctl"]["net.ipv4.tcp_tw_reuse"] == 1, "doctor reads the client namespace's value")
        sh("ip", "netns", "exec", NS_S, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/tcp_timestamps")
        rc, doc, _ = doctor(url, ns=NS_C)
        check(doc["target"]["timestamps_negotiated"] is True, "server tcp_timestamps=1: negotiated")
        stale_marker_is_reported()
        c = {x["config"]: x for x in doc["ceilings"]}
        delay = doc["sysctl"].get("net.ipv4.tcp_tw_reuse_delay", 1000) / 1000
        rtt = doc["target"]["rtt_us"] / 1e6
        check(abs(c["short, client closes (now)"]["per_s"] - p / (rtt + delay)) < 0.01 * p,
              "reuse=1 with timestamps: P / (T + delay)")
    finally:
        try:
            if srv:
                srv.stop()
        finally:
            remove_namespaces()
    check(ours_left() == [], f"no namespace or veth left ({ours_left()})")


if __name__ == "__main__":
    values_equal_proc()
    unreachable_target()
    loopback_target()
    if can_run("doctor across namespaces (server timestamps, reuse flags, stale marker)",
               root=True, tools=("ip",)):
        failed_setup_leaves_nothing()
        across_namespaces()
    finish()
