# SPDX-License-Identifier: MIT
"""Ports bound inside the port range are skipped by connect() (a listener on port 0 lands
there): in a namespace of its own with ip_local_port_range 40000-40499 and tcp_tw_reuse 0,
short connections run until the ports are gone, and ok = the usable ports reported, exactly;
run, compare and doctor leave the bound ports out of the usable ports and the ceiling. So
does run with the ports that connections another program holds open toward the target
take, and not those of its connections toward another destination."""
import json
import os
import re
import socket
import subprocess

from pxtest import PORTEX, check, finish, isolate, portex, run, skip, skip_part, spawn

if os.geteuid() != 0:
    skip("needs root: a network namespace of its own whose port range and tcp_tw_reuse it sets")
isolate()
if os.environ.get("PXTEST_ISOLATED") != "1":
    skip("could not enter a network namespace of its own; the host's sysctls are never changed")


def sysctl(name, value):
    """Sets a sysctl of this test's own network namespace (never the host's)."""
    with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
        f.write(value)


def serve(listen):
    """portex serve on `listen` (127.0.0.1:0 lands inside the port range); (process, port)."""
    p = spawn([PORTEX, "serve", "--listen", listen, "-t", "1"], stdout=subprocess.PIPE,
              stderr=subprocess.PIPE, text=True)
    m = re.search(r"listening on [\d.]+:(\d+)", p.stderr.readline())
    if not m:
        p.kill()
        raise RuntimeError("portex serve did not start")
    return p, int(m.group(1))


def stop(p):
    p.terminate()
    p.communicate(timeout=20)


def kernel_at_least(major, minor):
    got = tuple(int(x) for x in re.findall(r"\d+", os.uname().release)[:2])
    return got >= (major, minor)


def exhaust(name, url, usable, bound_words, open_ports=0):
    """Short connections toward url until the ports are gone: ok = usable, exactly."""
    rc, doc, _ = run("-n", "600", "-c", "4", "-t", "1", "-q", url)
    s = doc["summary"]
    check(rc == 0 and s["ok"] == usable and s["errors"] == {"EADDRNOTAVAIL": 600 - usable},
          f"{name}: {usable} ok, then EADDRNOTAVAIL ({s['ok']} ok, {s['errors']})")
    bound = 500 - usable - open_ports
    check(s["usable_ports"] == usable and s.get("bound_ports") == bound and
          s.get("open_ports") == open_ports,
          f"{name}: usable ports reported = ok = {usable}, bound {bound}, open {open_ports} "
          f"({s['usable_ports']}, {s.get('bound_ports')}, {s.get('open_ports')})")
    check(f"= {usable} / 60 s" in s["ceiling_formula"],
          f"{name}: the ceiling counts {usable} ports ({s['ceiling_formula']})")
    p = portex("run", "-n", "1", "-c", "1", "-t", "1", "-q", url)
    line = (f"  usable ports         {usable} (500 in 40000-40499, ip_local_port_range; "
            f"{bound_words})")
    check(line in p.stdout.splitlines(), f"{name}: the text says why ({line.strip()!r})")


def a_listener_inside_the_range():
    srv, port = serve("127.0.0.1:0")
    check(40000 <= port <= 40499, f"serve on port 0 lands inside the range ({port})")
    exhaust("the target's own listener", f"http://127.0.0.1:{port}/", 499, "1 bound by a listener")
    p = portex("doctor", "--json", "-")
    d = json.loads(p.stdout) if p.returncode == 0 else {}
    check(d.get("usable_ports") == 499 and d.get("bound_ports") == 1,
          f"doctor: 499 usable ports, 1 bound ({d.get('usable_ports')}, {d.get('bound_ports')})")
    p = portex("doctor")
    check("40000-40499: 499 usable ports toward one destination (minus reserved: none; minus 1 "
          "bound by a listener)" in p.stdout, "doctor's text says why")
    stop(srv)


def listeners_and_bound_sockets_of_both_families():
    if not kernel_at_least(6, 7):
        skip_part("bound-only sockets", "sock_diag reports them from Linux 6.7 on")
        return
    # Out of the range: the target; inside it: an IPv6 listener and an IPv4 socket that is
    # bound but neither listens nor connects (both take a port from 40000-40499).
    srv, port = serve("127.0.0.1:8080")
    other, other_port = serve("127.0.0.1:8081")
    v6 = socket.socket(socket.AF_INET6)
    v6.bind(("::1", 0))
    v6.listen(4)
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    taken = (v6.getsockname()[1], bound.getsockname()[1])
    check(all(40000 <= p <= 40499 for p in taken), f"both sockets hold ports of the range {taken}")
    words = "2 bound: 1 by a listener, 1 by a socket that neither listens nor connects"
    exhaust("a v6 listener and a bound socket", f"http://127.0.0.1:{port}/", 498, words)
    p = portex("compare", "--modes", "short", "-n", "600", "-c", "4", "-t", "1", "-q", "--json",
               "-", f"http://127.0.0.1:{other_port}/", timeout=120)
    modes = json.loads(p.stdout)["modes"] if p.returncode == 0 else [{}]
    m = modes[0]
    ports = m.get("settings", {}).get("ports")
    ok = m.get("summary", {}).get("ok")
    check(ports == 498 and ok == 498, f"compare's table: 498 ports, 498 ok ({ports}, {ok})")
    v6.close()
    bound.close()
    stop(srv)
    stop(other)


def connections_already_open_toward_the_target():
    """Another program's open connections: 3 toward the target hold their ports for that
    4-tuple; 2 toward another port of the same host do not (connect() shares a port
    between destinations)."""
    srv, port = serve("127.0.0.1:8082")
    other, other_port = serve("127.0.0.1:8083")
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    elsewhere = [socket.create_connection(("127.0.0.1", other_port)) for _ in range(2)]
    ports = [s.getsockname()[1] for s in held + elsewhere]
    check(all(40000 <= p <= 40499 for p in ports), f"the five take ports of the range {ports}")
    exhaust("3 connections open toward the target", f"http://127.0.0.1:{port}/", 497,
            "3 held by connections already open toward the target", open_ports=3)
    for s in held + elsewhere:
        s.close()
    stop(srv)
    stop(other)


sysctl("net.ipv4.ip_local_port_range", "40000 40499")
sysctl("net.ipv4.tcp_tw_reuse", "0")
a_listener_inside_the_range()
listeners_and_bound_sockets_of_both_families()
connections_already_open_toward_the_target()
finish()
