# SPDX-License-Identifier: MIT
"""The test harness itself: every process a test starts (spawn, subprocess.run, a bare Popen)
dies with the test, on every path."""
import os
import signal
import subprocess
import sys
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import PORTEX, check, finish, spawn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# A test that starts `portex serve`, says its PID, then fails in the way given as argv[2].
CHILD = textwrap.dedent("""
    import os, sys, time
    sys.argv = [sys.argv[0], sys.argv[1], *sys.argv[3:]]
    how = os.environ["HOW"]
    import subprocess
    import pxtest
    if how == "bare":  # a plain subprocess.Popen, as subprocess.run makes
        print(subprocess.Popen(["sleep", "60"]).pid, flush=True)
        time.sleep(60)
    srv = pxtest.Serve()
    print(srv.proc.pid, flush=True)
    if how == "raise":
        raise RuntimeError("a test that raised")
    time.sleep(60)  # killed from outside
""")


def alive(pid):
    """True while pid runs (a zombie is not running: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_within(pid, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def serve_dies_with(how):
    p = spawn([sys.executable, "-c", CHILD, PORTEX, how], cwd=HERE, env=dict(os.environ, HOW=how),
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    check(line.isdigit(), f"{how}: the test started portex serve ({line!r})")
    if not line.isdigit():
        return
    pid = int(line)
    if how in ("sigkill", "bare"):
        p.kill()
    p.wait(timeout=30)
    ok = gone_within(pid, 5)
    check(ok, f"{how}: the test's portex serve (pid {pid}) ended with the test")
    if not ok:
        os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    serve_dies_with("raise")
    serve_dies_with("sigkill")
    serve_dies_with("bare")
    finish()
