# SPDX-License-Identifier: MIT
"""`portex serve` at its open-files limit: more connections than fit are held open.

Before the fix serve spun on accept()'s EMFILE (libevent's listener retried at once, about
1.5 CPU-s per second) and wrote one "Error from accept() call" line per try. Now it pauses
accepting with a back-off, counts the errors, says so at most once a second, keeps serving
the connections it has, and accepts again once descriptors are free."""
import json
import os
import re
import resource
import signal
import socket
import subprocess
import tempfile
import time

from pxtest import PORTEX, can_run, check, finish, skip, spawn

LIMIT = 128     # serve's RLIMIT_NOFILE, soft = hard: raising it changes nothing
HOLD = 320      # connections held open: far more than fit under LIMIT
STORM_S = 3.0   # the window over which serve's CPU time is measured
CPU_MAX_S = 0.5  # the spin used about 1.5 CPU-s per second; an idle server next to nothing
RECOVER_S = 5.0  # a paused listener tries again within 1 s
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def cpu_s(pid):
    """utime + stime of pid in seconds (/proc/PID/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_listening(path, proc, timeout_s=10):
    """The port from serve's "listening on" line in its stderr file, or None."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and proc.poll() is None:
        with open(path) as f:
            m = re.search(r"listening on [\d.]+:(\d+)", f.read())
        if m:
            return int(m.group(1))
        time.sleep(0.05)
    return None


def ask(sock, timeout_s):
    """Sends one keep-alive request on sock; True when a whole response came back in time."""
    sock.settimeout(timeout_s)
    try:
        sock.sendall(REQUEST)
        data = b""
        while not complete(data):
            chunk = sock.recv(4096)
            if not chunk:
                return False
            data += chunk
        return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def complete(data):
    """True when data holds a whole response: its head and Content-Length bytes of body."""
    head, sep, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    return bool(sep) and m is not None and len(body) >= int(m.group(1))


def fresh_answer(port, within_s):
    """Seconds until a new connection gets an answer (retried), or None after within_s."""
    start = time.monotonic()
    while time.monotonic() - start < within_s:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            if ask(s, 1.0):
                return time.monotonic() - start
    return None


def hold(port, n):
    """n connections to port, not waited for: the kernel completes them into the listen
    queue as far as it has room (somaxconn), the rest keep trying their SYN."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    return socks


def storm(proc, port, early):
    """Holds HOLD connections for STORM_S; returns (CPU-s used, early answered, held)."""
    held = hold(port, HOLD)
    time.sleep(0.5)  # serve is at its limit now: every further accept() fails
    cpu0, t0 = cpu_s(proc.pid), time.monotonic()
    time.sleep(STORM_S / 2)
    answered = ask(early, 2.0)
    time.sleep(max(0.0, STORM_S - (time.monotonic() - t0)))
    used = cpu_s(proc.pid) - cpu0
    return used, answered, held


def serve_at_the_fd_limit():
    if not can_run("serve at its open-files limit", tools=("prlimit",)):
        return
    # This process holds HOLD sockets too: its own soft limit up to the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < HOLD + 64:
        skip(f"this shell's hard open-files limit {hard} < {HOLD + 64}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.TemporaryDirectory()
    errpath = os.path.join(tmp.name, "serve.err")
    errf = open(errpath, "w")
    started = time.monotonic()
    proc = spawn(["prlimit", f"--nofile={LIMIT}:{LIMIT}", PORTEX, "serve",
                  "--listen", "127.0.0.1:0", "-t", "2"],
                 stdout=subprocess.PIPE, stderr=errf, text=True)
    port = wait_listening(errpath, proc)
    check(port is not None, "serve under prlimit --nofile starts and says where it listens")
    if port is None:
        return
    early = socket.create_connection(("127.0.0.1", port), timeout=5)
    check(ask(early, 5.0), "a connection opened before the storm is answered")

    used, answered, held = storm(proc, port, early)
    check(used < CPU_MAX_S,
          f"serve does not spin at the limit: {used:.2f} CPU-s over {STORM_S:.0f} s "
          f"with {HOLD} connections held (< {CPU_MAX_S})")
    check(answered, "the connection opened before the storm is still answered during it")

    for s in held:
        s.close()
    early.close()
    took = fresh_answer(port, RECOVER_S)
    check(took is not None,
          f"after the held connections close, a new one is answered within {RECOVER_S:.0f} s "
          f"(the pause is at most 1 s): {'%.2f s' % took if took is not None else 'not'}")

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    elapsed = time.monotonic() - started
    errf.close()
    with open(errpath) as f:
        lines = f.read().splitlines()
    check(proc.returncode == 0, f"serve exits 0 on SIGTERM ({proc.returncode})")
    check(len(lines) <= elapsed + 2,
          f"stderr: at most one line a second: {len(lines)} lines in {elapsed:.1f} s "
          f"(first {lines[:4]})")
    check(any("accept() failed: Too many open files" in ln and "ulimit -n" in ln for ln in lines),
          f"stderr says what failed and to raise 'ulimit -n' ({lines[:4]})")
    try:
        doc = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        doc = {}
    check({"accepted", "requests"} <= doc.keys(), f"the last line keeps its keys ({out[-200:]!r})")
    check(doc.get("accept_errors", 0) > 0, f"the last line counts accept errors ({doc})")


def serve_raises_its_soft_limit():
    """Started with a soft limit below the hard one, serve raises it (as run does) and, the
    hard limit being low too, says so."""
    if not can_run("serve raises its open-files limit", tools=("prlimit",)):
        return
    tmp = tempfile.TemporaryDirectory()
    errpath = os.path.join(tmp.name, "serve.err")
    with open(errpath, "w") as errf:
        proc = spawn(["prlimit", "--nofile=100:200", PORTEX, "serve",
                      "--listen", "127.0.0.1:0", "-t", "1"],
                     stdout=subprocess.PIPE, stderr=errf, text=True)
    port = wait_listening(errpath, proc)
    check(port is not None, "serve under prlimit --nofile=100:200 starts")
    with open(f"/proc/{proc.pid}/limits") as f:
        row = next((ln.split() for ln in f if ln.startswith("Max open files")), [])
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    with open(errpath) as f:
        err = f.read()
    check(row[3:5] == ["200", "200"], f"the soft limit is raised to the hard one ({row})")
    check("open-files limit 200, which is also the hard limit" in err and "ulimit -Hn" in err,
          f"and serve says the limit is still low ({err.strip()[-200:]!r})")
    check(out.strip().endswith('"accept_errors": 0}'), f"no accept errors ({out.strip()!r})")


serve_at_the_fd_limit()
serve_raises_its_soft_limit()
finish()
