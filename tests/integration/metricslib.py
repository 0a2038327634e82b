# SPDX-License-Identifier: MIT
"""Helpers for the --metrics tests: a portex command whose stderr is read as it comes, scrapes,
an exposition parsed into samples, and what a finished run's JSON says the samples must be."""
import os
import re
import subprocess
import tempfile
import threading
import time
import urllib.request

from pxtest import PORTEX, spawn

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
# What Prometheus 2.42 sends.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
# le edges of portex_latency_seconds, in us (src/report/exposition.c).
EDGES_US = [50, 100, 200, 250, 500, 1000, 2000, 2496, 4992, 9984, 19968, 24960, 49920, 99840,
            199680, 249856, 499712, 999424, 1998848, 2506752, 5013504, 10027008, 20054016,
            30015488, 60030976]
PHASES = {"connect": "connect", "first_byte": "ttfb", "total": "total"}


class Live:
    """A portex command with --metrics: its stderr lines as they come (the metrics address
    first), its stdout in a file."""

    def __init__(self, *args, env=None, wrap=()):
        """wrap: an argv prefix (prlimit ...) portex runs under."""
        self.out = tempfile.TemporaryFile(mode="w+")
        self.started = time.monotonic()
        self.proc = spawn([*wrap, PORTEX, *args], stdout=self.out, stderr=subprocess.PIPE,
                          text=True, env=env)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_for("metrics on http://")
        m = re.search(r"(http://\S+/metrics)", line or "")
        self.url = m.group(1) if m else None

    def _read(self):
        for line in self.proc.stderr:
            with self.cv:
                self.lines.append(line)
                self.cv.notify_all()
        with self.cv:
            self.lines.append(None)
            self.cv.notify_all()

    def wait_for(self, text, timeout=60):
        """The first stderr line holding text (None when the process ended or time ran out)."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for line in self.lines:
                    if line is None:
                        return None
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def stderr(self):
        with self.cv:
            return "".join(line for line in self.lines if line)

    def end(self, timeout=60):
        """Waits for the exit: (exit code, stdout, seconds from start)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.seek(0)
        return self.proc.returncode, self.out.read(), time.monotonic() - self.started


def scrape(url, accept=PROMETHEUS_ACCEPT, timeout=10, method="GET"):
    """(status, Content-Type, body) of one scrape."""
    req = urllib.request.Request(url, method=method)
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)(?: (\S+))?$")


def parse(text):
    """{(name, ((label, value), ...)): (value, timestamp text)} of an exposition."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m is None:
            raise ValueError(f"not a sample: {line!r}")
        labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
        samples[(m.group(1), labels)] = (float(m.group(3)), m.group(4))
    return samples


def value(samples, name, **labels):
    """A sample's value where its labels include these; None when there is none."""
    want = set(labels.items())
    found = [v for (n, ls), (v, _) in samples.items() if n == name and want <= set(ls)]
    if len(found) > 1:
        raise ValueError(f"{name} {labels}: {len(found)} samples")
    return found[0] if found else None


def bucket_bounds(i):
    """portex's bucket i as [lo, hi] us (README, Result format)."""
    if i < 256:
        return i, i
    shift = (i - 256) // 128 + 1
    lo = (128 + (i - 256) % 128) << shift
    return lo, lo + (1 << shift) - 1


def expected(doc):
    """The samples a finished run's result document says --metrics must end with, keyed by
    (name, extra labels): counters, causes, gauges, every histogram bucket, count and sum."""
    s, r = doc["summary"], doc["result"]
    t = r["totals"]
    want = {("portex_requests_total", ()): s["requests"], ("portex_ok_total", ()): t["ok"],
            ("portex_connections_opened_total", ()): t["connections_opened"],
            ("portex_missed_starts_total", ()): t["missed_starts"],
            ("portex_retries_total", ()): t.get("retries", 0),
            ("portex_failures_total", (("cause", "EADDRNOTAVAIL"),)):
                t["causes"].get("EADDRNOTAVAIL", 0),
            ("portex_usable_ports", ()): s["usable_ports"],
            ("portex_in_flight", ()): doc["series"][-1]["in_flight"]}
    for cause, n in t["causes"].items():
        want[("portex_failures_total", (("cause", cause),))] = n
    for phase, key in PHASES.items():
        h = r["latency"][key]
        lab = (("phase", phase),)
        want[("portex_latency_seconds_count", lab)] = h["count"]
        want[("portex_latency_seconds_sum", lab)] = h["sum_us"] / 1e6
        for e in EDGES_US:
            under = sum(n for i, n in h["buckets"] if bucket_bounds(i)[1] < e)
            want[("portex_latency_seconds_bucket", lab + (("le", le_text(e)),))] = under
    return want


def le_text(us):
    """The le text portex writes for an edge: Python's repr is the shortest text that reads
    back, as Go's strconv 'g' is, for every edge (none is a whole number of seconds)."""
    return repr(us / 1e6)


def matches(samples, want, **labels):
    """The differences between a scrape's samples (with these labels) and what a run's JSON
    says: [] when every one is equal."""
    bad = []
    for (name, extra), v in want.items():
        got = value(samples, name, **labels, **dict(extra))
        if got is None or abs(got - v) > 1e-9 * max(1.0, abs(v)):
            bad.append(f"{name}{dict(extra)}: {got} != {v}")
    return bad


def free_listener():
    """A socket listening on 127.0.0.1 (a busy port for --metrics), and its port."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS")).split()[1])


def tmpfile(name):
    return os.path.join(tempfile.mkdtemp(prefix="pxmetrics"), name)
