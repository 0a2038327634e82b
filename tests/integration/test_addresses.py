# SPDX-License-Identifier: MIT
"""A name with two addresses, as on a stock Debian 12 (localhost: ::1 first, then 127.0.0.1),
and a server on 127.0.0.1 only: run, doctor and compare go to the address that answers and say
which; -4/-6 pin a family; a run that reaches nothing says that nothing listens."""
import json
import os
import shutil
import socket
import tempfile

from pxtest import DEBIAN_HOSTS, Serve, check, finish, isolate, portex, run, skip

if os.geteuid() != 0:
    skip("needs root: a network and a mount namespace of its own, where /etc/hosts lists "
         "::1 localhost as Debian 12 does (the host's /etc/hosts is never touched)")
# A name with ten addresses (a DNS round robin's size), of which only the last listens.
MANY = "".join(f"127.0.0.{i}\tmany\n" for i in range(2, 12))
isolate(hosts=DEBIAN_HOSTS + MANY)


def resolved(port, *probes):
    """config.resolved for localhost:port: [::1] then 127.0.0.1, with these probes."""
    addrs = (f"[::1]:{port}", f"127.0.0.1:{port}")
    return [{"address": a, "probe": p} for a, p in zip(addrs, probes)]


def refused_run(name, args, url, port):
    """A run pinned to ::1 (or finding nothing): every request refused, and said so."""
    rc, doc, _ = run(*args, url)
    s = doc["summary"]
    check(rc == 0 and s["ok"] == 0 and s["errors"] == {"ECONNREFUSED": 20},
          f"{name}: all 20 requests refused ({s['ok']} ok, {s['errors']})")
    want = f"nothing listens at [::1]:{port}: every request was refused (ECONNREFUSED)."
    check(s["diagnosis"] == want, f"{name}: the diagnosis says nothing listens ({s['diagnosis']!r})")
    p = portex("run", *args, url)
    last = p.stdout.strip().splitlines()[-1]
    check(last == want, f"{name}: the last line of the text says it ({last!r})")
    return doc


def premise():
    got = [a[4][0] for a in socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM)]
    check(got == ["::1", "127.0.0.1"], f"here localhost resolves ::1 first, as on Debian ({got})")


def http_goes_to_the_address_that_answers():
    srv = Serve()
    url, port = f"http://localhost:{srv.port}/", srv.port
    rc, doc, err = run("-n", "200", "-c", "4", "-t", "1", "-q", url)
    p = portex("run", "-n", "20", "-c", "2", "-t", "1", "-q", url)
    counts = srv.stop()
    s, c = doc["summary"], doc["config"]
    check(rc == 0 and s["ok"] == 200 and s["failed"] == 0,
          f"run http://localhost: 200 ok, 0 failed ({s['ok']}, {s['errors']})")
    check(c["target"] == f"127.0.0.1:{port}" and c["family"] is None,
          f"config.target is the address used ({c['target']})")
    check(c["resolved"] == resolved(port, "ECONNREFUSED", "answered"),
          f"config.resolved: ::1 refused the probe, 127.0.0.1 answered ({c['resolved']})")
    # One probe connection per run (reset at once), then one per request.
    check(counts["requests"] == 220 and counts["accepted"] == 220 + 2,
          f"server: 220 requests, 222 connections with the two probes ({counts})")
    line = (f"  to 127.0.0.1:{port}, the first of the 2 addresses of localhost to answer a probe "
            f"([::1]:{port} ECONNREFUSED, 127.0.0.1:{port} answered)")
    check(line in p.stdout.splitlines(), f"the text names the address and the probes ({line!r})")
    first = err.splitlines()[0] if err else ""
    check(first.startswith(f"portex run: to 127.0.0.1:{port}, the first of the 2"),
          f"stderr says an address was passed over ({first!r})")


def pinned_families():
    srv = Serve()
    url, port = f"http://localhost:{srv.port}/", srv.port
    args = ("-6", "-n", "20", "-c", "2", "-t", "1", "-q")
    doc = refused_run("-6", args, url, port)
    c = doc["config"]
    check(c["family"] == "ipv6" and c["target"] == f"[::1]:{port}" and
          c["resolved"] == [{"address": f"[::1]:{port}", "probe": "not tried"}],
          f"-6: config says ipv6, [::1] the one address, not probed ({c['family']}, {c['resolved']})")
    rc, doc, _ = run("-4", "-n", "20", "-c", "2", "-t", "1", "-q", url)
    c = doc["config"]
    check(doc["summary"]["ok"] == 20 and c["family"] == "ipv4" and
          c["resolved"] == [{"address": f"127.0.0.1:{port}", "probe": "not tried"}],
          f"-4: 20 ok to 127.0.0.1, nothing probed ({doc['summary']['ok']}, {c['resolved']})")
    rc, doc, _ = run("--source", "127.0.0.1", "-n", "20", "-c", "2", "-t", "1", "-q", url)
    counts = srv.stop()
    c = doc["config"]
    check(doc["summary"]["ok"] == 20 and c["family"] is None and
          c["resolved"] == [{"address": f"127.0.0.1:{port}", "probe": "not tried"}],
          f"--source 127.0.0.1 keeps IPv4: 20 ok ({doc['summary']['ok']}, {c['resolved']})")
    check(counts["accepted"] == counts["requests"] == 40,
          f"server: -4 and --source made no probe, -6 never reached it ({counts})")
    p = portex("run", "-4", "-n", "1", "http://[::1]:9/")
    check(p.returncode == 1 and "to an IPv4 address (-4)" in p.stderr,
          f"-4 with an IPv6 literal: exit 1 naming -4 ({p.returncode}, {p.stderr!r})")


def nothing_answers():
    srv = Serve()
    url, port = f"http://localhost:{srv.port}/", srv.port
    srv.stop()
    doc = refused_run("no server", ("-n", "20", "-c", "2", "-t", "1", "-q"), url, port)
    c = doc["config"]
    check(c["target"] == f"[::1]:{port}" and
          c["resolved"] == resolved(port, "ECONNREFUSED", "ECONNREFUSED"),
          f"none answered: the run went to the first, both probes kept ({c['resolved']})")


def https_with_a_certificate_for_localhost():
    d = tempfile.mkdtemp(prefix="pxaddr-")
    cert = os.path.join(d, "cert.pem")
    srv = Serve(extra=("--tls", "--write-cert", cert))
    url, port = f"https://localhost:{srv.port}/", srv.port
    rc, doc, _ = run("-n", "100", "-c", "4", "-t", "1", "-q", "--cacert", cert, url)
    s, c = doc["summary"], doc["config"]
    check(s["ok"] == 100 and s["tls"]["full"] == 100,
          f"https://localhost with --cacert: 100 ok, the name verified ({s['ok']}, {s['errors']})")
    check(c["target"] == f"127.0.0.1:{port}" and
          c["resolved"] == resolved(port, "ECONNREFUSED", "answered"),
          f"https: 127.0.0.1 used after ::1 refused ({c['target']}, {c['resolved']})")
    refused_run("https -6", ("-6", "-n", "20", "-c", "2", "-t", "1", "-q", "--cacert", cert), url,
                port)
    srv.stop()
    shutil.rmtree(d)


def doctor_probes_the_same_way():
    srv = Serve()
    url, port = f"http://localhost:{srv.port}/", srv.port
    p = portex("doctor", "--json", "-", url)
    t = json.loads(p.stdout)["target"] if p.stdout.strip() else {}
    check(p.returncode == 0 and t.get("reached") and t.get("address") == "127.0.0.1" and
          t.get("http_status") == 200,
          f"doctor http://localhost: reaches 127.0.0.1, GET 200 ({p.returncode}, {t.get('address')})")
    check(t.get("resolved") == resolved(port, "ECONNREFUSED", "answered"),
          f"doctor: the probes of each address ({t.get('resolved')})")
    p = portex("doctor", "-6", "--json", "-", url)
    t = json.loads(p.stdout)["target"] if p.stdout.strip() else {}
    check(p.returncode == 1 and t.get("reached") is False and t.get("family") == "ipv6" and
          t.get("resolved") == [{"address": f"[::1]:{port}", "probe": "ECONNREFUSED"}],
          f"doctor -6: exit 1, [::1] refused ({p.returncode}, {t.get('resolved')})")
    p = portex("doctor", url)
    check(f"  address                127.0.0.1:{port}, the first of the 2 addresses" in p.stdout,
          "doctor's text names the address it reached")
    srv.stop()


def compare_takes_the_same_options():
    srv = Serve()
    url = f"http://localhost:{srv.port}/"
    p = portex("compare", "-6", "--modes", "short", "-n", "10", "-c", "1", "-t", "1", "-q",
               "--json", "-", url)
    srv.stop()
    modes = json.loads(p.stdout)["modes"] if p.returncode == 0 else []
    errors = modes[0]["summary"]["errors"] if modes else None
    check(errors == {"ECONNREFUSED": 10}, f"compare -6: the mode ran against ::1 ({errors})")


def the_tenth_address_is_tried():
    """Every address is probed, not the first 8: the run went to the 8th and said 'the 8
    addresses of many' of a name with 10, and every request was refused."""
    lsn = socket.socket()
    lsn.bind(("127.0.0.11", 0))
    lsn.listen(16)
    port = lsn.getsockname()[1]
    rc, doc, _ = run("-n", "1", "-c", "1", "-t", "1", "-q", "--timeout", "500ms",
                     f"http://many:{port}/")
    lsn.close()
    c = doc["config"]
    want = [{"address": f"127.0.0.{i}:{port}", "probe": "ECONNREFUSED"} for i in range(2, 11)]
    want.append({"address": f"127.0.0.11:{port}", "probe": "answered"})
    check(rc == 0 and c["target"] == f"127.0.0.11:{port}" and c["resolved"] == want,
          f"many: all 10 addresses probed, the run went to the 10th ({c['target']}, "
          f"{len(c['resolved'])} resolved)")


premise()
the_tenth_address_is_tried()
http_goes_to_the_address_that_answers()
pinned_families()
nothing_answers()
https_with_a_certificate_for_localhost()
doctor_probes_the_same_way()
compare_takes_the_same_options()
finish()
