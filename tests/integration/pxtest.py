# SPDX-License-Identifier: MIT
"""Shared fixtures for portex integration tests: servers on loopback, runs, checks."""
import atexit
import ctypes
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PORTEX = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "portex"
FAILURES = []
SKIPPED = []
# CI (root) sets PORTEX_NO_SKIP=1: there every part of every test must run, and a skip fails.
NO_SKIP = os.environ.get("PORTEX_NO_SKIP") == "1"


_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
_CHILDREN = []


def _die_with_parent():
    """In a child before exec: the kernel kills it when the test process dies, however."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _kill_children():
    """At exit (a finished test, or one that raised): every process it started is ended."""
    for p in _CHILDREN:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


atexit.register(_kill_children)


class _Popen(subprocess.Popen):
    """Every process a test starts, through spawn, subprocess.run or a bare Popen: it dies
    with the test on any path (an exception, a failed check, SIGKILL of the test:
    PR_SET_PDEATHSIG), and what is still running at exit is ended by its PID."""

    def __init__(self, *args, **kw):
        kw.setdefault("preexec_fn", _die_with_parent)
        super().__init__(*args, **kw)
        _CHILDREN.append(self)


# subprocess.run and check_output create their processes through subprocess.Popen.
subprocess.Popen = _Popen


def spawn(argv, **kw):
    """A process that dies with the test (see _Popen)."""
    return _Popen(argv, **kw)


def check(cond, what):
    """Records one assertion; the script exits non-zero at the end if any failed."""
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def finish():
    if SKIPPED:
        print(f"SKIP: {len(SKIPPED)} parts not run: {'; '.join(SKIPPED)}", flush=True)
    passed = "all checks passed" if not FAILURES else f"{len(FAILURES)} checks failed"
    print(passed)
    sys.exit(1 if FAILURES else 0)


def skip(reason):
    """The whole test cannot run here: ctest SKIP (exit 77); a failure under PORTEX_NO_SKIP=1."""
    print(f"SKIP: {reason}", flush=True)
    if NO_SKIP:
        print(f"FAIL  PORTEX_NO_SKIP=1: the test must run, it skipped ({reason})", flush=True)
        sys.exit(1)
    sys.exit(77)


def skip_part(what, why):
    """Part of a test cannot run here: says so on screen; a failure under PORTEX_NO_SKIP=1.

    Every partial skip goes through here, so none is silent: scripts/test.sh lists the
    "SKIP:" lines after ctest (which hides the output of passing tests)."""
    print(f"SKIP: {what} ({why})", flush=True)
    SKIPPED.append(what)
    if NO_SKIP:
        check(False, f"PORTEX_NO_SKIP=1: {what} must run, it skipped ({why})")


def can_run(what, root=False, tools=()):
    """True when this part can run (root if asked, every tool on PATH); else skip_part and False."""
    if root and os.geteuid() != 0:
        skip_part(what, "needs root; CI runs as root")
        return False
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        skip_part(what, f"{', '.join(missing)} not installed (scripts/setup.sh installs it)")
        return False
    return True


# Debian 12's /etc/hosts: localhost is both 127.0.0.1 and ::1, and the resolver (RFC 6724)
# answers ::1 first. isolate(hosts=DEBIAN_HOSTS) puts a test on such a machine.
DEBIAN_HOSTS = """127.0.0.1\tlocalhost
127.0.1.1\tpxtest

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
"""


def isolate(hosts=None):
    """Re-runs this script in a network namespace of its own (root, unshare), lo up.

    Port ranges, TIME_WAIT counts and bound ports then belong to this test alone: on a shared
    machine another process listening on a port of --port-range would otherwise take a port
    out of the range and turn an exact count into an off-by-one. The namespace goes with
    the process: nothing is left behind, even after SIGKILL.

    hosts: the text of an /etc/hosts for the resolver. The script then also runs in a mount
    namespace of its own (private propagation) where a temporary file with that text is
    bind-mounted over /etc/hosts: the host's file is never touched, and the mount goes with
    the namespace."""
    if os.environ.get("PXTEST_ISOLATED") == "1":
        return
    tools = ("unshare", "ip", "mount") if hosts is not None else ("unshare", "ip")
    if not can_run("isolation in a network namespace of its own", root=True, tools=tools):
        return
    print("note: this test runs in a network namespace of its own (unshare --net)", flush=True)
    env = dict(os.environ, PXTEST_ISOLATED="1")
    setup, unshare, path = "ip link set lo up", ["unshare", "--net"], None
    if hosts is not None:
        fd, path = tempfile.mkstemp(prefix="pxtest-hosts-")
        with os.fdopen(fd, "w") as f:
            f.write(hosts)
        print("note: and in a mount namespace of its own, /etc/hosts replaced there", flush=True)
        setup += ' && mount --bind "$PXTEST_HOSTS" /etc/hosts'
        unshare += ["--mount", "--propagation", "private"]
        env["PXTEST_HOSTS"] = path
    cmd = [*unshare, "sh", "-c", setup + ' && exec "$@"', "sh",
           sys.executable, os.path.abspath(sys.argv[0]), PORTEX, *sys.argv[2:]]
    sys.stdout.flush()
    try:
        rc = spawn(cmd, env=env).wait()
    finally:
        if path is not None:
            os.unlink(path)
    sys.exit(rc)


def in_new_netns(script, *args, timeout=120):
    """Runs a bash script under `unshare --net` in a process group of its own.

    Whatever happens (failure, timeout), every process of the group is killed at the end,
    so no background `serve` can outlive the test and keep its namespace alive. The script
    is also PID 1 of a PID namespace of its own, which dies with the test (--kill-child):
    when the test is killed (SIGKILL, or SIGINT through isolate()) no code of it runs, and
    the kernel ends the script's background processes with the namespace. /proc is that
    namespace's own (--mount-proc, in a private mount namespace): LeakSanitizer and `ss -p`
    read /proc/PID of the script's processes by their PIDs in it.
    Returns the CompletedProcess."""
    p = spawn(["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc",
               "bash", "-c", script, "x", *args],
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        err += f"\n(killed after {timeout} s)"
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


# For scripts run by in_new_netns: waits (at most 10 s) until something listens on TCP port $1.
WAIT_LISTEN = r"""
wait_listen() {
  for _ in $(seq 100); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1 after 10 s" >&2
  return 1
}
"""


def books(name, doc, scheduled=None):
    """The exact accounting of one run (or one mode of lab/compare): holds on any machine.

    Every started request ends in exactly one bucket (ok: 2xx/3xx; failed: 4xx, 5xx or an
    error cause), the series adds up to the summary, and in the open model every scheduled
    start is a request or a missed start (-r R -d D schedules R x D starts)."""
    s, rows = doc["summary"], doc.get("series", [])
    st = s["http_status"]
    check(s["requests"] == s["ok"] + s["failed"],
          f"{name}: requests = ok + failed ({s['requests']} = {s['ok']} + {s['failed']})")
    check(s["ok"] == st["2xx"] + st["3xx"] and
          s["failed"] == st["4xx"] + st["5xx"] + sum(s["errors"].values()),
          f"{name}: each request in one bucket (ok {s['ok']}, failed {s['failed']}, "
          f"HTTP {st}, errors {s['errors']})")
    sums = {k: sum(r[k] for r in rows) for k in ("started", "ok", "failed", "eaddrnotavail")}
    check(sums["started"] == s["requests"] and sums["ok"] == s["ok"] and
          sums["failed"] == s["failed"] and
          sums["eaddrnotavail"] == s["errors"].get("EADDRNOTAVAIL", 0),
          f"{name}: the series adds up to the summary ({sums} vs {s['requests']} requests)")
    if scheduled is not None:
        check(s["requests"] + s["missed_starts"] == scheduled,
              f"{name}: requests + missed starts = {scheduled} scheduled "
              f"({s['requests']} + {s['missed_starts']})")


def reuse_bound(ports, doc, delay_s):
    """The most ok requests short connections can carry over `ports` ports when a
    TIME_WAIT port can be reused `delay_s` after its last packet (tcp_tw_reuse): each port
    once, then once per delay until the run's last start. The run's end (its series' last
    row) bounds the last start even when a loaded machine starts requests late."""
    end_s = doc["series"][-1]["t"] if doc.get("series") else doc["summary"]["duration_s"]
    return ports * (1 + math.floor(end_s / delay_s))


# The tests' --port-range values lie in here. A server listening on one of these ports
# (port 0 can land there) takes that port out of the client's range: keep servers out.
CLIENT_PORTS = range(40000, 41000)


class Serve:
    """`portex serve` on 127.0.0.1 and a free port; stop() returns its JSON counts."""

    def __init__(self, threads=1, extra=(), netns_cmd=()):
        for _ in range(20):
            self._start(threads, extra, netns_cmd)
            if self.port not in CLIENT_PORTS or "--listen" in extra:
                break
            self.proc.kill()
            self.proc.communicate()
        self.url = f"http://127.0.0.1:{self.port}/"

    def _start(self, threads, extra, netns_cmd):
        self.proc = spawn(
            [*netns_cmd, PORTEX, "serve", "--listen", "127.0.0.1:0", "-t", str(threads), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"listening on ([\d.]+):(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"portex serve did not start: {line!r}")
        self.port = int(m.group(2))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=20)
        check(self.proc.returncode == 0, f"serve exits 0 on SIGTERM (got {self.proc.returncode})")
        return json.loads(out.strip().splitlines()[-1])


def run(*args, timeout=120):
    """portex run ... --json - ; returns (exit code, parsed JSON or None, stderr)."""
    p = subprocess.run([PORTEX, "run", *args, "--json", "-"], capture_output=True, text=True,
                       timeout=timeout, preexec_fn=_die_with_parent)
    doc = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
    return p.returncode, doc, p.stderr


def portex(*args, timeout=120):
    return subprocess.run([PORTEX, *args], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_die_with_parent)


class RawServer:
    """A loopback TCP server whose every connection gets handler(conn)."""

    def __init__(self, handler):
        for _ in range(20):
            self.sock = socket.socket()
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", 0))
            if self.sock.getsockname()[1] not in CLIENT_PORTS:
                break
            self.sock.close()
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
