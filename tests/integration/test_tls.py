# SPDX-License-Identifier: MIT
"""HTTPS: portex run against portex serve --tls on 127.0.0.1 (counts, resumption, errors).

As root it runs where /etc/hosts is Debian 12's (localhost resolves ::1 first; a mount
namespace of its own, the host's file untouched): https://localhost must still verify."""
import json
import os
import re
import subprocess
import tempfile
import time

from pxtest import DEBIAN_HOSTS, PORTEX, Serve, check, finish, isolate, portex, run

isolate(hosts=DEBIAN_HOSTS)


class TlsServe(Serve):
    """portex serve --tls, its certificate written to a file for --cacert."""

    def __init__(self, threads=1, extra=()):
        self.dir = tempfile.mkdtemp(prefix="portex-tls-")
        self.cert = os.path.join(self.dir, "cert.pem")
        super().__init__(threads, ("--tls", "--write-cert", self.cert, *extra))
        self.url = f"https://127.0.0.1:{self.port}/"

    def stop(self):
        counts = super().stop()
        os.unlink(self.cert)
        os.rmdir(self.dir)
        return counts


def short_full_handshakes():
    srv = TlsServe(threads=2)
    rc, doc, err = run("-n", "2000", "-c", "8", "-t", "2", "-q", "--insecure", srv.url)
    counts = srv.stop()
    s = doc["summary"]
    check(rc == 0 and s["ok"] == 2000 and s["failed"] == 0,
          f"https -n 2000: 2000 ok, 0 failed ({s['ok']}, {s['failed']})")
    check(s["tls"]["full"] == 2000 and s["tls"]["resumed"] == 0,
          f"2000 full handshakes, 0 resumed ({s['tls']})")
    check(s["tls"]["version"] == "TLSv1.3", f"TLS 1.3 negotiated ({s['tls']['version']})")
    check(counts["accepted"] == 2000 and counts["requests"] == 2000,
          f"server: 2000 connections, 2000 requests ({counts})")
    lat = s["latency_us"]
    check(lat["tls"]["count"] == 2000 and lat["connect"]["count"] == 2000,
          f"latency_us.tls counts every handshake ({lat['tls']['count']})")
    check(doc["config"]["tls"]["resume"] == "off" and doc["config"]["tls"]["insecure"],
          "config.tls records the settings")


def resumption_with_tickets():
    for version in ("1.3", "1.2"):
        srv = TlsServe()
        rc, doc, _ = run("-n", "600", "-c", "4", "-t", "1", "-q", "--insecure", "--tls-resume",
                         "ticket", "--tls-version", version, srv.url)
        srv.stop()
        t = doc["summary"]["tls"]
        check(doc["summary"]["ok"] == 600 and t["full"] + t["resumed"] == 600,
              f"TLS {version} ticket: 600 ok, full + resumed = 600 ({t})")
        check(t["resumed"] > 0.95 * 600, f"TLS {version} ticket: over 95% resumed ({t['resumed']})")
        check(t["version"] == "TLSv" + version, f"--tls-version {version} holds ({t['version']})")


def keepalive_opens_c_connections():
    srv = TlsServe()
    rc, doc, _ = run("-k", "-n", "800", "-c", "8", "-t", "2", "-q", "--insecure", srv.url)
    counts = srv.stop()
    s = doc["summary"]
    check(s["ok"] == 800 and s["connections_opened"] == 8 and s["tls"]["full"] == 8,
          f"-k -c 8: 800 ok over 8 TLS connections ({s['ok']}, {s['connections_opened']}, {s['tls']})")
    check(counts["accepted"] == 8 and counts["requests"] == 800, f"server: 8 accepted ({counts})")


def close_policies():
    for mode in ("server", "rst"):
        srv = TlsServe()
        t0 = time.monotonic()
        rc, doc, _ = run("-n", "300", "-c", "4", "-t", "1", "-q", "--insecure", "--close", mode,
                         srv.url, timeout=200)
        wall = time.monotonic() - t0
        counts = srv.stop()
        s = doc["summary"]
        check(s["ok"] == 300 and counts["accepted"] == 300,
              f"https --close {mode}: 300 ok over 300 connections ({s['ok']}, {counts['accepted']})")
        # A slot stuck waiting for a close_notify it already took would hold
        # for the 10 s timeout each time: 75 rounds of 4, over 10 minutes.
        check(wall < 60, f"https --close {mode}: no slot waits for a timeout ({wall:.1f} s)")


def verification():
    srv = TlsServe()
    rc, doc, err = run("-n", "40", "-c", "4", "-t", "1", "-q", srv.url)
    s = doc["summary"]
    check(s["ok"] == 0 and s["errors"].get("tls_verify") == 40,
          f"self-signed without --insecure/--cacert: 40 tls_verify ({s['errors']})")
    check("self-signed" in s["tls"]["reasons"].get("tls_verify", ""),
          f"OpenSSL's reason kept ({s['tls']['reasons']})")
    p = portex("run", "-n", "4", "-c", "1", "-t", "1", "-q", srv.url)
    check("--insecure" in p.stdout and "--cacert" in p.stdout and "self-signed" in p.stdout,
          "the text error table says how to skip the check and why it failed")
    rc, doc, _ = run("-n", "40", "-c", "4", "-t", "1", "-q", "--cacert", srv.cert, srv.url)
    check(doc["summary"]["ok"] == 40, f"--cacert of --write-cert: 40 ok ({doc['summary']['ok']})")
    name = f"https://localhost:{srv.port}/"
    rc, doc, _ = run("-n", "10", "-c", "2", "-t", "1", "-q", "--cacert", srv.cert, name)
    check(doc["summary"]["ok"] == 10, f"SNI/name localhost verifies against the SAN ({doc['summary']['ok']})")
    srv.stop()


def port_exhaustion_same_as_http():
    # Open model: starts at 1000/s whatever a handshake costs on this machine,
    # so 100 ports run out (in flight or in TIME_WAIT) over http and https alike.
    for scheme, ports in (("http", "41300-41399"), ("https", "41400-41499")):
        srv = TlsServe() if scheme == "https" else Serve()
        extra = ("--insecure",) if scheme == "https" else ()
        rc, doc, _ = run("--port-range", ports, "-r", "1000", "-d", "2s", "-c", "400", "-t", "1",
                         "--timeout", "5s", "-q", *extra, srv.url, timeout=60)
        counts = srv.stop()
        s = doc["summary"]
        e = s["errors"].get("EADDRNOTAVAIL", 0)
        others = {k: v for k, v in s["errors"].items() if k not in ("EADDRNOTAVAIL", "cancelled")}
        check(s["requests"] + s["missed_starts"] == 2000 and s["requests"] == s["ok"] + s["failed"],
              f"{scheme} 100 ports: 2000 starts = ok {s['ok']} + failed {s['failed']} + missed "
              f"{s['missed_starts']}")
        check(e > 0 and not others, f"{scheme}: ports run out, EADDRNOTAVAIL {e}, no other cause "
              f"({s['errors']})")
        # The range lies inside the host's: a listener or bound socket of another test
        # running beside this one may hold a port of it, which portex subtracts and says.
        bound = s.get("bound_ports") or 0
        check(s["usable_ports"] + bound == 100 and s["time_wait_peak"] <= 110,
              f"{scheme}: 100 ports = {s['usable_ports']} usable + {bound} bound, TIME_WAIT "
              f"peak <= 110 ({s['time_wait_peak']})")
        # A connection cancelled at the stop was accepted but never carried a request.
        cancelled = s["errors"].get("cancelled", 0)
        check(s["connections_opened"] <= counts["accepted"] <= s["connections_opened"] + cancelled,
              f"{scheme}: the server accepted the connections the client opened "
              f"({counts['accepted']}, {s['connections_opened']} + {cancelled} cancelled)")
        rows = doc["series"]
        check(sum(r["eaddrnotavail"] for r in rows) == e, f"{scheme}: series sums to the summary")


def plain_server_behind_https():
    srv = Serve()
    url = f"https://127.0.0.1:{srv.port}/"
    rc, doc, _ = run("-n", "60", "-c", "4", "-t", "1", "-q", "--insecure", "--timeout", "5s", url,
                     timeout=60)
    srv.stop()
    s = doc["summary"]
    check(rc == 0 and s["errors"].get("tls_handshake") == 60,
          f"plain HTTP server behind https: 60 tls_handshake ({s['errors']})")
    check(s["tls"]["reasons"].get("tls_handshake"), f"reason kept ({s['tls']['reasons']})")
    check(s["ok"] == 0 and s["requests"] == 60, f"no hang: all 60 ended ({s['requests']})")


def tls_server_behind_http():
    srv = TlsServe()
    rc, doc, _ = run("-n", "60", "-c", "4", "-t", "1", "-q", f"http://127.0.0.1:{srv.port}/",
                     timeout=60)
    srv.stop()
    s = doc["summary"]
    check(s["errors"].get("parse_error") == 60,
          f"https server behind http: 60 parse errors ({s['errors']})")


def bad_input():
    srv = TlsServe()
    p = portex("run", "-n", "1", "--cacert", "/nonexistent/ca.pem", srv.url)
    check(p.returncode == 1 and p.stderr.count("\n") == 1 and "/nonexistent/ca.pem" in p.stderr,
          f"unreadable --cacert: one line, exit 1 ({p.returncode}, {p.stderr!r})")
    srv.stop()
    for args, code, what in (
            (["run", "--insecure", "http://127.0.0.1:9/"], 2, "https:// URLs only"),
            (["run", "--tls-version", "1.1", "https://127.0.0.1:9/"], 2, "'1.1'"),
            (["run", "--tls-resume", "id", "https://127.0.0.1:9/"], 2, "'id'"),
            (["serve", "--cert", "/x.pem"], 2, "needs --tls"),
            (["serve", "--tls", "--cert", "/x.pem"], 2, "--key"),
            (["serve", "--tls", "--cert", "/nonexistent/c.pem", "--key", "/nonexistent/k.pem"], 1,
             "/nonexistent/c.pem")):
        p = portex(*args, timeout=20)
        check(p.returncode == code and p.stderr.count("\n") == 1 and what in p.stderr,
              f"{' '.join(args)}: exit {code}, one line naming {what} ({p.returncode}, {p.stderr!r})")
    d = tempfile.mkdtemp(prefix="portex-tls-")
    cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=a", "-keyout",
                        os.devnull, "-out", cert, "-days", "1"], capture_output=True)
    r2 = subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                         "ec_paramgen_curve:P-256", "-out", key], capture_output=True)
    if r.returncode == 0 and r2.returncode == 0:
        p = portex("serve", "--tls", "--cert", cert, "--key", key, timeout=20)
        check(p.returncode == 1 and "does not match" in p.stderr and p.stderr.count("\n") == 1,
              f"key of another certificate: one line, exit 1 ({p.stderr!r})")
    for f in (cert, key):
        if os.path.exists(f):
            os.unlink(f)
    os.rmdir(d)


def merge_of_https_shards():
    srv = TlsServe()
    d = tempfile.mkdtemp(prefix="portex-tls-")
    files = [os.path.join(d, f"shard{k}.json") for k in (0, 1)]
    for k, f in enumerate(files):
        p = portex("run", "-n", "200", "-c", "4", "-t", "1", "-q", "--insecure", "--shard",
                   f"{k}/2", "--json", f, srv.url, timeout=60)
        check(p.returncode == 0, f"https shard {k}/2 runs ({p.returncode} {p.stderr.strip()!r})")
    srv.stop()
    p = portex("merge", *files, "--json", "-", timeout=60)
    doc = json.loads(p.stdout) if p.returncode == 0 else {}
    s = doc.get("summary", {})
    check(s.get("ok") == 200 and s.get("tls", {}).get("full") == 200 and
          s.get("latency_us", {}).get("tls", {}).get("count") == 200,
          f"portex merge of two https shards: 200 ok, 200 full handshakes ({s.get('tls')})")
    for f in files:
        if os.path.exists(f):
            os.unlink(f)
    os.rmdir(d)


def doctor_probes_tls():
    srv = TlsServe()
    p = portex("doctor", srv.url, timeout=30)
    srv.stop()
    check(p.returncode == 0 and re.search(r"TLS\s+TLSv1\.3; resumes sessions: yes", p.stdout),
          f"doctor https: version and resumption reported ({p.returncode})")
    plain = Serve()
    p = portex("doctor", f"https://127.0.0.1:{plain.port}/", timeout=30)
    plain.stop()
    check(p.returncode == 1 and "tls_handshake" in p.stdout,
          f"doctor https against plain HTTP: handshake failure named, exit 1 ({p.returncode})")


short_full_handshakes()
resumption_with_tickets()
keepalive_opens_c_connections()
close_policies()
verification()
port_exhaustion_same_as_http()
plain_server_behind_https()
tls_server_behind_http()
bad_input()
merge_of_https_shards()
doctor_probes_tls()
finish()
