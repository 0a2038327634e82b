# SPDX-License-Identifier: MIT
"""Shared fixtures for portex integration tests: servers on loopback, runs, checks."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

PORTEX = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "portex"
FAILURES = []


def check(cond, what):
    """Records one assertion; the script exits non-zero at the end if any failed."""
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def finish():
    passed = "all checks passed" if not FAILURES else f"{len(FAILURES)} checks failed"
    print(passed)
    sys.exit(1 if FAILURES else 0)


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(77)


class Serve:
    """`portex serve` on 127.0.0.1 and a free port; stop() returns its JSON counts."""

    def __init__(self, threads=1, extra=(), netns_cmd=()):
        self.proc = subprocess.Popen(
            [*netns_cmd, PORTEX, "serve", "--listen", "127.0.0.1:0", "-t", str(threads), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"listening on ([\d.]+):(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"portex serve did not start: {line!r}")
        self.port = int(m.group(2))
        self.url = f"http://127.0.0.1:{self.port}/"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=20)
        check(self.proc.returncode == 0, f"serve exits 0 on SIGTERM (got {self.proc.returncode})")
        return json.loads(out.strip().splitlines()[-1])


def run(*args, timeout=120):
    """portex run ... --json - ; returns (exit code, parsed JSON or None, stderr)."""
    p = subprocess.run([PORTEX, "run", *args, "--json", "-"], capture_output=True, text=True,
                       timeout=timeout)
    doc = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
    return p.returncode, doc, p.stderr


def portex(*args, timeout=120):
    return subprocess.run([PORTEX, *args], capture_output=True, text=True, timeout=timeout)


class RawServer:
    """A loopback TCP server whose every connection gets handler(conn)."""

    def __init__(self, handler):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.handler = handler
        self.conns = []
        self.stopped = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.handler, args=(c,), daemon=True).start()

    def stop(self):
        self.stopped = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
