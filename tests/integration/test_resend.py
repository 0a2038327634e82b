# SPDX-License-Identifier: MIT
"""Resends on a fresh connection: counted as retries, idempotent methods only, --no-retry.

The server is a fixture that counts every request it reads and drops some (reads the whole
request, then closes without a byte of answer), so that client and server books must agree:
server requests = client requests + retries, exactly."""
import csv
import json
import os
import socket
import struct
import tempfile
import threading

from metricslib import Live, expected, matches, parse, scrape, tmpfile, value
from pxtest import RawServer, books, check, finish, portex


class DroppingServer:
    """A keep-alive HTTP/1.1 server that drops the requests drop(conn_index, req_index)
    names (both from 1: the connection's order of accept, the request's on its connection)."""

    def __init__(self, drop, rst=False):
        self.drop = drop
        self.rst = rst  # drop with an RST (SO_LINGER 0) rather than a FIN
        self.lock = threading.Lock()
        self.accepted = 0
        self.requests = 0  # read in full, answered or dropped
        self.dropped = 0
        self.methods = {}
        self.raw = RawServer(self._handle)
        self.url = self.raw.url

    def _read_request(self, c, buf):
        """One request (head and Content-Length body); (method, rest of buf) or None at EOF."""
        while b"\r\n\r\n" not in buf:
            data = c.recv(4096)
            if not data:
                return None
            buf += data
        head, buf = buf.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(buf) < length:
            data = c.recv(4096)
            if not data:
                return None
            buf += data
        return head.split(b" ", 1)[0].decode(), buf[length:]

    def _handle(self, c):
        with self.lock:
            self.accepted += 1
            conn = self.accepted
        buf, n = b"", 0
        try:
            while True:
                got = self._read_request(c, buf)
                if got is None:
                    break
                method, buf = got
                n += 1
                with self.lock:
                    self.requests += 1
                    self.methods[method] = self.methods.get(method, 0) + 1
                    drop = self.drop(conn, n)
                    self.dropped += drop
                if drop:
                    # Everything was read: close() sends a FIN (or an RST), no answer.
                    if self.rst:
                        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        c.close()

    def stop(self):
        self.raw.stop()


def every_third(conn, n):
    """The issue's server: every 3rd request on a connection is read and dropped."""
    return n % 3 == 0


def run_with_outputs(*args):
    """portex run with --json and --csv files; (exit code, JSON, CSV rows, text report)."""
    with tempfile.TemporaryDirectory(prefix="px-resend-") as tmp:
        jpath, cpath = os.path.join(tmp, "run.json"), os.path.join(tmp, "run.csv")
        p = portex("run", "-q", "--timeout", "5s", *args, "--json", jpath, "--csv", cpath)
        doc, rows = None, []
        if os.path.exists(jpath) and os.path.getsize(jpath) > 0:
            with open(jpath) as f:
                doc = json.load(f)
        if os.path.exists(cpath) and os.path.getsize(cpath) > 0:
            with open(cpath) as f:
                rows = list(csv.DictReader(f))
    return p.returncode, doc, rows, p.stdout + p.stderr


def ran(name, rc, doc, text):
    """The run exited 0 with a JSON document (its output shown only when not)."""
    good = rc == 0 and doc is not None
    check(good, f"{name}: run exits 0 with a JSON result ({rc})" + ("" if good else text[-400:]))
    return good


def dropped_every_third(name, srv, s):
    """Each slot's connections carry ok, ok, dropped: how many of the 60 requests fall
    third depends on how the worker's quota fell to its 2 slots: 20, or 19."""
    check(srv.dropped in (19, 20) and s["errors"] == {"closed_before_response": srv.dropped} and
          s["ok"] == 60 - srv.dropped,
          f"{name}: each of the {srv.dropped} dropped is closed_before_response, the rest ok "
          f"({s['errors']}, {s['ok']} ok)")


def server_books(name, srv, s):
    """What the server read is what the client sent: its requests and its resends."""
    retries = s.get("retries", 0)
    check(srv.requests == s["requests"] + retries,
          f"{name}: server requests = client requests + retries "
          f"({srv.requests} = {s['requests']} + {retries})")
    check(srv.dropped == retries + s["errors"].get("closed_before_response", 0),
          f"{name}: every dropped request was resent or failed as closed_before_response "
          f"({srv.dropped} dropped, {retries} resent, errors {s['errors']})")


def get_resends_are_counted():
    """-k -n 60 -c 2, every 3rd request dropped: each drop is resent once on a fresh
    connection, where it is that connection's first request and answered."""
    srv = DroppingServer(every_third)
    rc, doc, rows, text = run_with_outputs("-k", "-n", "60", "-c", "2", "-t", "1", srv.url)
    srv.stop()
    if not ran("GET", rc, doc, text):
        return
    s = doc["summary"]
    books("GET", doc)
    check(s["ok"] == 60 and s["failed"] == 0,
          f"GET: 60 ok, none failed: every drop was resent ({s['ok']} ok, {s['errors']})")
    check("retries" in s and s["retries"] == srv.dropped and s["retries"] > 0,
          f"GET: summary.retries counts the {srv.dropped} resends ({s.get('retries')})")
    server_books("GET", srv, s)
    check("retries" in doc["result"]["totals"] and
          doc["result"]["totals"]["retries"] == s.get("retries"),
          f"GET: result.totals.retries ({doc['result']['totals'].get('retries')})")
    check(sum(r.get("retries", 0) for r in doc["series"]) == s.get("retries"),
          "GET: the series rows' retries add up to the summary")
    check(rows and "retries" in rows[0] and
          sum(int(r["retries"]) for r in rows) == s.get("retries"),
          "GET: the CSV has a retries column that adds up to the summary")
    check(doc["config"].get("no_retry") is False, f"GET: config.no_retry is false "
          f"({doc['config'].get('no_retry')})")
    check(f"resent               {s.get('retries')} " in text and "closed before any response byte"
          in text, "GET: the text report says how many were resent and why")


def post_is_never_resent():
    """The same server, -m POST --body x: a POST is not idempotent (RFC 9110 9.2.2), so each
    dropped one fails as closed_before_response and the server reads each POST once."""
    srv = DroppingServer(every_third)
    rc, doc, rows, text = run_with_outputs("-k", "-n", "60", "-c", "2", "-t", "1", "-m", "POST",
                                           "--body", "x", srv.url)
    srv.stop()
    if not ran("POST", rc, doc, text):
        return
    s = doc["summary"]
    books("POST", doc)
    check(srv.requests == 60 and srv.methods == {"POST": 60},
          f"POST: the server read exactly 60 POSTs, none twice ({srv.requests}, {srv.methods})")
    check(s.get("retries") == 0, f"POST: no retries ({s.get('retries')})")
    dropped_every_third("POST", srv, s)
    server_books("POST", srv, s)
    check("resent               0 (POST is not idempotent" in text,
          "POST: the text report says why nothing was resent")


def no_retry_turns_resending_off():
    srv = DroppingServer(every_third)
    rc, doc, rows, text = run_with_outputs("-k", "-n", "60", "-c", "2", "-t", "1", "--no-retry",
                                           srv.url)
    srv.stop()
    if not ran("--no-retry", rc, doc, text):
        return
    s = doc["summary"]
    books("--no-retry", doc)
    check(srv.requests == 60 and s.get("retries") == 0,
          f"--no-retry: the server read 60 requests, none resent ({srv.requests}, "
          f"{s.get('retries')})")
    dropped_every_third("--no-retry", srv, s)
    check(doc["config"].get("no_retry") is True, "--no-retry: config.no_retry is true")
    check("resent               0 (--no-retry" in text, "--no-retry: the text report names it")
    server_books("--no-retry", srv, s)


def a_resend_is_resent_at_most_once():
    """The 2nd request of every connection is dropped, and so is the 1st of every even
    connection: with -c 1 each drop's resend lands on an even connection and is dropped
    too. A resend is not resent: 30 ok, 30 closed_before_response, 30 retries, 90 read."""
    srv = DroppingServer(lambda conn, n: n == 2 or (n == 1 and conn % 2 == 0))
    rc, doc, rows, text = run_with_outputs("-k", "-n", "60", "-c", "1", "-t", "1", srv.url)
    srv.stop()
    if not ran("resend dropped", rc, doc, text):
        return
    s = doc["summary"]
    books("resend dropped", doc)
    check(s["ok"] == 30 and s["errors"] == {"closed_before_response": 30} and
          s.get("retries") == 30 and srv.requests == 90,
          f"resend dropped: 30 ok, 30 closed_before_response, 30 retries, server read 90 "
          f"({s['ok']}, {s['errors']}, {s.get('retries')}, {srv.requests})")
    server_books("resend dropped", srv, s)


def reset_counts_like_a_close():
    """Dropped with an RST rather than a FIN (the client reads ECONNRESET, not EOF): the
    same rules. A GET is resent; a POST fails as closed_before_response, not ECONNRESET."""
    for method, args in (("GET", ()), ("POST", ("-m", "POST", "--body", "x"))):
        srv = DroppingServer(every_third, rst=True)
        rc, doc, rows, text = run_with_outputs("-k", "-n", "60", "-c", "2", "-t", "1", *args,
                                               srv.url)
        srv.stop()
        name = f"RST, {method}"
        if not ran(name, rc, doc, text):
            continue
        s = doc["summary"]
        books(name, doc)
        server_books(name, srv, s)
        if method == "GET":
            check(s["ok"] == 60 and s.get("retries") == srv.dropped > 0,
                  f"{name}: every reset request resent, 60 ok ({s['ok']}, {s.get('retries')})")
        else:
            check(s.get("retries") == 0, f"{name}: nothing resent ({s.get('retries')})")
            dropped_every_third(name, srv, s)


def no_retry_is_an_option_of_compare_and_ramp():
    for cmd in ("compare", "ramp"):
        p = portex(cmd, "--help")
        check("--no-retry" in p.stdout, f"{cmd} --help lists --no-retry")


def resends_in_live_metrics():
    """--metrics: portex_retries_total counts the GET resends and a dropped POST is
    portex_failures_total{cause="closed_before_response"}, both equal to the JSON at the end."""
    for method in ("GET", "POST"):
        srv = DroppingServer(every_third)
        out = tmpfile("resend.json")
        live = Live("run", "--metrics", "127.0.0.1:0", "--metrics-linger", "30s", "-k", "-n",
                    "60", "-c", "2", "-t", "1", "-m", method, "-q", "--json", out, srv.url)
        body = ""
        if live.wait_for("serving the final") is not None:
            body = scrape(live.url)[2]
        rc, _, _ = live.end(timeout=30)
        srv.stop()
        doc = None
        if os.path.exists(out) and os.path.getsize(out) > 0:
            with open(out) as f:
                doc = json.load(f)
        if not ran(f"{method} --metrics", rc, doc, live.stderr()):
            continue
        s, samples = doc["summary"], parse(body)
        bad = matches(samples, expected(doc))
        retries = value(samples, "portex_retries_total")
        closed = value(samples, "portex_failures_total", cause="closed_before_response")
        want = (s["retries"], None) if method == "GET" else (0, s["errors"]["closed_before_response"])
        check(not bad and (retries, closed) == want and (want[0] or want[1]),
              f"{method} --metrics: retries {retries}, closed_before_response {closed} "
              f"equal to the JSON's {want} ({bad[:3]})")


if __name__ == "__main__":
    get_resends_are_counted()
    post_is_never_resent()
    no_retry_turns_resending_off()
    a_resend_is_resent_at_most_once()
    reset_counts_like_a_close()
    no_retry_is_an_option_of_compare_and_ramp()
    resends_in_live_metrics()
    finish()
