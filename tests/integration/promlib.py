# SPDX-License-Identifier: MIT
"""A real Prometheus (Debian's package) for the tests: started with a 1 s scrape config on
one address, stopped by its PID on every path, its HTTP API queried."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from pxtest import spawn

CONFIG = """global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: portex
    static_configs:
      - targets: [{targets}]
"""


class Prometheus:
    """prometheus on listen (IP:PORT) scraping targets every second. prefix: a command to run
    it under (ip netns exec NS); the API is then reached through the same prefix."""

    def __init__(self, listen, targets, prefix=()):
        self.dir = tempfile.mkdtemp(prefix="pxprom")
        self.listen, self.prefix = listen, list(prefix)
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(targets=", ".join(f"'{t}'" for t in targets)))
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = spawn([*self.prefix, "prometheus", f"--config.file={self.config}",
                           f"--storage.tsdb.path={self.dir}/tsdb",
                           f"--web.listen-address={listen}", "--log.level=warn"],
                          stdout=self.log, stderr=subprocess.STDOUT)

    def get(self, path, **params):
        """The JSON an API path answers (None when it does not answer yet)."""
        url = f"http://{self.listen}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        if self.prefix:
            p = subprocess.run([*self.prefix, "python3", "-c",
                                "import sys,urllib.request;"
                                "sys.stdout.write(urllib.request.urlopen(sys.argv[1],"
                                "timeout=5).read().decode())", url],
                               capture_output=True, text=True, timeout=30)
            return json.loads(p.stdout) if p.returncode == 0 and p.stdout else None
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())
        except OSError:
            return None

    def wait_targets(self, n, timeout=60):
        """Waits until n targets are active (Prometheus applies them ~5-8 s after start;
        a run started before would lose its first seconds). True when they are."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            t = self.get("/api/v1/targets")
            if t and len(t["data"]["activeTargets"]) >= n:
                return True
            time.sleep(0.25)
        return False

    def query(self, expr, at=None):
        """The result list of an instant query (at: unix seconds; None: now)."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        r = self.get("/api/v1/query", **params)
        return r["data"]["result"] if r and r.get("status") == "success" else None

    def scalar(self, expr, at=None):
        """The one value an instant query gives (None when none or several)."""
        r = self.query(expr, at)
        return float(r[0]["value"][1]) if r and len(r) == 1 else None

    def until_equal(self, expr, want, timeout=20):
        """Queries until the value is want (a scrape is ingested a moment after it was
        written): the last value seen."""
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            got = self.scalar(expr)
            if got == want:
                break
            time.sleep(0.25)
        return got

    def stop(self):
        """SIGTERM to its PID, waited for; the data directory removed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return self.proc.returncode
