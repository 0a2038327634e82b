# SPDX-License-Identifier: MIT
"""portex watch against a client that is not portex: a small Python loop that counts its own
errno 99 failures while it exhausts the 100 ports of a namespace this test creates. watch must
attribute exactly that count to that pid and comm, see its channel's TIME_WAIT exactly as `ss`
does at a quiet moment, print the time to exhaustion (a number while a channel fills, 0 once
full), and, without root or without the rights tracing needs, print one line saying so and
go on. Bad input is refused with one line and exit 2."""
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

from pxtest import (PORTEX, RawServer, Serve, can_run, check, finish, isolate, portex,
                    skip_part, spawn)

LO, HI = 40000, 40099  # the namespace's port range: 100 usable ports
FAILS = 500            # errno 99 failures the client collects before it stops

# Not portex: connects until it has seen errno 99 FAILS times; closes first (its TIME_WAIT).
CLIENT = r"""
import errno, os, socket, sys
port, want = int(sys.argv[1]), int(sys.argv[2])
ok = fail = other = 0
while fail < want:
    c = socket.socket()
    try:
        c.connect(("127.0.0.1", port))
        ok += 1
    except OSError as e:
        if e.errno == errno.EADDRNOTAVAIL:
            fail += 1
        else:
            other += 1
    c.close()
print(f"pid={os.getpid()} ok={ok} eaddrnotavail={fail} other={other}", flush=True)
"""

# Not portex either: N connections, one every 1/RATE s, then it stops.
SLOW = r"""
import socket, sys, time
port, rate, n = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
t0 = time.monotonic()
for i in range(n):
    time.sleep(max(0.0, t0 + i / rate - time.monotonic()))
    c = socket.create_connection(("127.0.0.1", port))
    c.close()
print("done", flush=True)
"""


def drain_server(conn):
    """Reads to the client's FIN, then closes: the client closed first and holds TIME_WAIT."""
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()


def kv(line):
    return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))


def ss_time_wait(port):
    p = subprocess.run(["ss", "-Htn", "state", "time-wait", f"dport = :{port}"],
                       capture_output=True, text=True, timeout=30)
    return len([x for x in p.stdout.splitlines() if x.strip()])


def bad_input():
    """Each refusal: exit 2, one line on stderr naming the value and what is expected."""
    cases = [
        (["--interval", "5ms"], "invalid --interval '5ms': expected a duration from 100 ms"),
        (["--dest", "1.2.3.4"], "invalid --dest '1.2.3.4': expected IP:PORT"),
        (["--dest", "127.0.0.1:0"], "invalid --dest '127.0.0.1:0': expected IP:PORT"),
        (["--count", "0"], "invalid --count '0': expected a whole number from 1"),
        (["-d", "1s", "--count", "2"], "-d and --count both say when to stop"),
        (["now"], "unexpected argument 'now'"),
        (["--colour"], "unknown option '--colour'"),
    ]
    for args, want in cases:
        p = portex("watch", *args, timeout=30)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and want in lines[0] and p.stdout == "",
              f"watch {' '.join(args)}: exit 2 and one line with {want!r} "
              f"(got {p.returncode}, {p.stderr.strip()!r})")


def ways_out():
    """A reader that goes away (`portex watch | head -1`) ends the watch at its next tick
    instead of leaving it ticking on unread; SIGTERM and SIGHUP end it like Ctrl-C: exit 0
    without -d/--count, 130 before the --count asked for, the summary printed either way."""
    p = spawn([PORTEX, "watch", "--interval", "100ms"], stdout=subprocess.PIPE,
              stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    p.stdout.close()
    t0 = time.monotonic()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    err = p.stderr.read()
    check(first.startswith("tick=1 ") and time.monotonic() - t0 < 5 and p.returncode == 1 and
          "cannot write to stdout" in err,
          f"watch | head -1: it ends within a tick or two, saying stdout is gone "
          f"({p.returncode}, {time.monotonic() - t0:.1f} s, {err[-200:]!r})")
    for sig, count, want in ((signal.SIGTERM, [], 0), (signal.SIGHUP, [], 0),
                             (signal.SIGTERM, ["--count", "1000"], 130)):
        p = spawn([PORTEX, "watch", "--interval", "100ms", *count], stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, text=True)
        p.stdout.readline()
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
        check(p.returncode == want and "ended by a signal" in out and "channels" in out,
              f"{signal.Signals(sig).name} {' '.join(count)}: exit {want} and the summary "
              f"({p.returncode}, {err[-200:]!r})")


def on_a_terminal():
    """On a terminal: the live table in the alternate screen, redrawn in place (one frame a
    tick, each starting at the top left), and on SIGINT the screen put back before the
    summary, which stays on the normal screen."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    p = spawn([PORTEX, "watch", "--interval", "100ms"], stdin=slave, stdout=slave,
              stderr=subprocess.DEVNULL, env=dict(os.environ, TERM="xterm"))
    os.close(slave)
    out = b""
    end = time.monotonic() + 20
    while out.count(b"\033[H") < 4 and time.monotonic() < end:
        out += os.read(master, 65536)
    p.send_signal(signal.SIGINT)
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process and its terminal are gone
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=30)
    os.close(master)
    leave, frames = out.find(b"\033[?1049l"), out.count(b"\033[H")
    check(p.returncode == 0 and out.startswith(b"\033[?1049h") and frames >= 4
          and b"portex watch  tick " in out and leave > 0 and
          b"ended by a signal" in out[leave:] and b"tick=" not in out,
          f"on a terminal: frames in the alternate screen, put back before the summary "
          f"({p.returncode}, {frames} frames, {out[-300:]!r})")


class Watch:
    """portex watch in the background; its plain lines (every one carries tick=N) gathered
    by a thread as they come."""

    def __init__(self, json_path):
        self.p = spawn([PORTEX, "watch", "--interval", "300ms", "--json", json_path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            with self.cv:
                self.lines.append(line)
                self.cv.notify_all()

    def last(self):
        """The last tick whose lines are all in (the next one has begun)."""
        with self.cv:
            ticks = [int(kv(x)["tick"]) for x in self.lines if x.startswith("tick=")]
        return max(ticks) - 1 if ticks else 0

    def wait(self, n, timeout=60):
        """Waits until tick n is complete; its lines."""
        end = time.monotonic() + timeout
        with self.cv:
            while self.last_locked() < n and time.monotonic() < end:
                self.cv.wait(0.5)
            return [x for x in self.lines if kv(x).get("tick") == str(n)]

    def last_locked(self):
        ticks = [int(kv(x)["tick"]) for x in self.lines if x.startswith("tick=")]
        return max(ticks) - 1 if ticks else 0

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        _, err = self.p.communicate(timeout=60)
        return self.p.returncode, err


def perf_fds(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]"
        except OSError:
            pass
    return n


def tracefs_mounts():
    return sum(" tracefs " in line for line in open("/proc/self/mountinfo"))


def usable_ports():
    """Usable = the range, minus reserved ports, minus ports bound inside it (a listener
    and a socket bound without listening); the namespace's 100 ports again afterwards."""
    open("/proc/sys/net/ipv4/ip_local_reserved_ports", "w").write("40098-40099")
    lis, bound = socket.socket(), socket.socket()
    try:
        lis.bind(("127.0.0.1", 40097))
        lis.listen(1)
        bound.bind(("127.0.0.1", 40096))
        p = portex("watch", "--count", "1", "-q", "--json", "-", timeout=60)
        ns = json.loads(p.stdout).get("namespace", {}) if p.returncode == 0 else {}
        check((ns.get("usable_ports"), ns.get("reserved_in_range"), ns.get("bound_in_range"))
              == (96, 2, 2), f"usable ports: 100 - 2 reserved - 2 bound = 96 ({ns})")
    finally:
        lis.close()
        bound.close()
        open("/proc/sys/net/ipv4/ip_local_reserved_ports", "w").write("\n")


def exhaust_and_count(d):
    """The main part: a channel that fills, then a client that exhausts another one."""
    # The servers first: their port 0 lands outside the range set next.
    srv, slow_srv, serve = RawServer(drain_server), RawServer(drain_server), Serve()
    open("/proc/sys/net/ipv4/ip_local_port_range", "w").write(f"{LO} {HI}")
    open("/proc/sys/net/ipv4/tcp_tw_reuse", "w").write("0")
    usable_ports()
    mounts = tracefs_mounts()
    w = Watch(os.path.join(d, "watch.json"))
    w.wait(1)
    # Tracing on: three events (a ring and two more) on every online CPU.
    check(perf_fds(w.p.pid) == 3 * os.cpu_count(),
          f"watch holds 3 perf fds per CPU ({perf_fds(w.p.pid)}, {os.cpu_count()} CPUs)")
    # A channel filling at 25 new connections a second: a time to exhaustion is printed.
    slow = spawn([sys.executable, "-c", SLOW, str(slow_srv.port), "25", "60"],
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = slow.communicate(timeout=60)
    check(slow.returncode == 0 and out == "done\n",
          f"the slow client made its 60 connections ({slow.returncode}, {out!r}, {err[-300:]!r})")
    client = spawn([sys.executable, "-c", CLIENT, str(srv.port), str(FAILS)],
                   stdout=subprocess.PIPE, text=True)
    out, _ = client.communicate(timeout=120)
    got = kv(out)
    # 100 ports, one connection each; one more now and then: on this kernel a rare RST
    # (one in about ten runs, with or without watch) ends a TIME_WAIT early.
    check(client.returncode == 0 and 100 <= int(got.get("ok", 0)) <= 102 and
          got.get("eaddrnotavail") == str(FAILS) and got.get("other") == "0",
          f"the client filled the 100 ports, then had {FAILS} failures ({out!r})")
    # portex run, 300 requests over 100 ports: it counts its own connect() calls
    # (connect_call), which watch sees from the tracepoints.
    run = spawn([PORTEX, "run", "-n", "300", "-c", "1", "-t", "1", "--close", "client", "-q",
                 "--json", "-", serve.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
    out, err = run.communicate(timeout=120)
    run_doc = json.loads(out) if out.strip() else {}
    check(run.returncode == 0 and run_doc.get("summary", {}).get("ok", 0) >= 100,
          f"portex run filled its 100 ports ({run.returncode}, {err[-300:]!r})")
    for _ in range(100):  # the server's closes come back: the client's ports in TIME_WAIT
        if ss_time_wait(srv.port) >= 98 and ss_time_wait(slow_srv.port) >= 58:
            break
        time.sleep(0.1)
    # Quiet now: no new connection, and no TIME_WAIT ends for 60 s. A whole tick read
    # between two `ss` counts sees what they see.
    before = (ss_time_wait(srv.port), ss_time_wait(slow_srv.port))
    n = w.last() + 2
    tick = w.wait(n)
    after = (ss_time_wait(srv.port), ss_time_wait(slow_srv.port))
    code, err = w.stop()
    check(code == 0 and "tracing off" not in err,
          f"watch without -d/--count: SIGINT ends it with exit 0 ({code}, {err[-300:]!r})")
    check(tracefs_mounts() == mounts, "no tracefs mount is left on the host")
    return {"port": srv.port, "slow_port": slow_srv.port, "pid": int(got.get("pid", 0)),
            "ok": int(got.get("ok", 0)), "before": before, "after": after, "tick": tick,
            "lines": w.lines, "run_pid": run.pid, "run": run_doc}


def tick_channel(r, port):
    """The quiet tick's line for the channel toward port (None when not exactly one)."""
    got = [kv(x) for x in r["tick"] if x.startswith("channel ") and
           kv(x)["destination"] == f"127.0.0.1:{port}"]
    return got[0] if len(got) == 1 else None


def check_lines(r):
    port, slow_port, pid = r["port"], r["slow_port"], r["pid"]
    for i, p in enumerate((port, slow_port)):
        c = tick_channel(r, p)
        tw = int(c["time_wait"]) if c else -1
        check(r["before"][i] == r["after"][i] == tw,
              f"127.0.0.1:{p}: the channel's TIME_WAIT equals ss's count at the same moment "
              f"(ss {r['before'][i]} and {r['after'][i]}, watch {tw})")
    mine = tick_channel(r, port)
    check(mine is not None and mine["in_use"] == mine["time_wait"] and mine["usable"] == "100",
          f"the exhausted channel: its TIME_WAIT sockets are the ports in use ({mine})")
    full = [kv(x) for x in r["lines"] if x.startswith("channel ") and
            kv(x)["destination"] == f"127.0.0.1:{port}" and kv(x)["in_use"] == "100"]
    check(full and all(f["exhausted_in_s"] == "0.0" for f in full),
          f"while all 100 ports were in use, the time to exhaustion printed is 0 ({full[-1:]})")
    procs = [kv(x) for x in r["lines"] if x.startswith("process ") and
             kv(x)["pid"] == str(pid)]
    check(procs and procs[-1]["eaddrnotavail"] == str(FAILS) and procs[-1]["comm"] == "python3",
          f"process lines name pid {pid} python3 with {FAILS} EADDRNOTAVAIL ({procs[-1:]})")
    filling = [kv(x) for x in r["lines"] if x.startswith("channel ") and
               kv(x)["destination"] == f"127.0.0.1:{slow_port}" and
               kv(x)["exhausted_in_s"] != "none" and 0 < int(kv(x)["in_use"]) < 100]
    check(len(filling) >= 1, f"a time to exhaustion is printed while the channel fills "
          f"({len(filling)} ticks)")
    # It is the ports left at the tick's rate: nothing comes free within the 60 s hold.
    for f in filling:
        want = (100 - int(f["in_use"])) / float(f["new_per_s"])
        check(abs(float(f["exhausted_in_s"]) - want) <= 0.1 + 0.01 * want,
              f"exhausted_in_s {f['exhausted_in_s']} = (100 - {f['in_use']}) / "
              f"{f['new_per_s']} new/s")


def check_document(path, r):
    port, slow_port, pid = r["port"], r["slow_port"], r["pid"]
    doc = json.load(open(path))
    ch = {c["destination"]: c for c in doc["channels"]}
    c = ch.get(f"127.0.0.1:{port}", {})
    check(c.get("source") == "127.0.0.1" and c.get("usable_ports") == 100 and
          c.get("peak", {}).get("in_use") == 100 and c.get("first_full_s") is not None and
          c.get("now", {}).get("time_wait") == r["after"][0],
          f"JSON: the exhausted channel was full, its TIME_WAIT that of ss ({c})")
    s = ch.get(f"127.0.0.1:{slow_port}", {})
    check(s.get("now", {}).get("time_wait") == r["after"][1] and
          s.get("peak", {}).get("in_use") >= r["after"][1],
          f"JSON: the filling channel's TIME_WAIT is ss's {r['after'][1]} ({s})")
    p = [x for x in doc["processes"] if x["pid"] == pid]
    check(len(p) == 1 and p[0]["eaddrnotavail"] == FAILS and p[0]["comm"] == "python3",
          f"JSON: exactly {FAILS} EADDRNOTAVAIL for pid {pid} python3 ({p})")
    check(p and p[0]["connect_calls"] == r["ok"] + FAILS and
          p[0]["connect_call_us"]["p50"] <= p[0]["connect_call_us"]["p99"]
          <= p[0]["connect_call_us"]["max"],
          f"JSON: its {r['ok'] + FAILS} connect() calls timed inside the kernel ({p})")
    check(doc["tracing"] == {"on": True, "why": None, "lost": 0}, f"JSON: {doc['tracing']}")
    check_run_calls(doc, r)
    check(doc["ticks"] >= 3 and doc["interrupted"] is True and doc["counters"]["TW"] >= 160,
          f"JSON: ticks {doc['ticks']}, interrupted, TcpExt TW {doc['counters']['TW']} >= 160")


def check_run_calls(doc, r):
    """portex run's own connect_call row counts every connect() it made, and watch counts
    the same calls and failures for its pid from the tracepoints."""
    s = r["run"].get("summary", {})
    calls = s.get("latency_us", {}).get("connect_call", {})
    eaddr = s.get("errors", {}).get("EADDRNOTAVAIL", 0)
    check(calls.get("count") == s.get("connections_opened", -1) + eaddr and eaddr > 0 and
          set(s.get("errors", {})) == {"EADDRNOTAVAIL"},
          f"run: connect_call counts each connect(): {s.get('connections_opened')} established "
          f"+ {eaddr} EADDRNOTAVAIL = {calls.get('count')}")
    p = [x for x in doc["processes"] if x["pid"] == r["run_pid"]]
    check(len(p) == 1 and p[0]["comm"] == "portex" and p[0]["eaddrnotavail"] == eaddr and
          p[0]["connect_calls"] == calls.get("count"),
          f"watch saw the run's {calls.get('count')} connect() calls and {eaddr} EADDRNOTAVAIL "
          f"({p})")


def check_dest(port, tw):
    """--dest keeps one channel; -q and --json -: the document alone on stdout."""
    p = portex("watch", "--count", "1", "-q", "--dest", f"127.0.0.1:{port}", "--json", "-",
               timeout=60)
    doc = json.loads(p.stdout) if p.returncode == 0 else {}
    chans = doc.get("channels", [])
    check(p.returncode == 0 and len(chans) == 1 and chans[0]["now"]["time_wait"] == tw,
          f"--dest 127.0.0.1:{port}: one channel, its {tw} TIME_WAIT ({p.returncode}, "
          f"{[c['destination'] for c in chans]})")
    check("portex watch: 1 ticks" in p.stderr, "with --json - the summary goes to stderr")


def without_tracing(d, port, tw):
    """As nobody, and as root without CAP_PERFMON and CAP_SYS_ADMIN: one line, the rest works."""
    binary = os.path.join(d, "portex")
    shutil.copy(PORTEX, binary)
    os.chmod(d, 0o755)
    os.chmod(binary, 0o755)
    runs = [("as nobody", ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]),
            ("as root without CAP_PERFMON and CAP_SYS_ADMIN",
             ["setpriv", "--bounding-set=-perfmon,-sys_admin"])]
    for what, prefix in runs:
        p = subprocess.run([*prefix, binary, "watch", "--count", "2", "--interval", "200ms",
                            "--json", "-"], capture_output=True, text=True, timeout=60, cwd=d)
        doc = json.loads(p.stdout) if p.returncode == 0 else {}
        off = [x for x in p.stderr.splitlines() if "tracing off" in x]
        check(p.returncode == 0 and len(off) == 1 and
              off[0].startswith("portex watch: tracing off") and
              ("root" in off[0] or "CAP_" in off[0]),
              f"{what}: exit 0 and one line says what is missing ({off})")
        check("no processes: tracing is off" in p.stderr,
              f"{what}: the summary says why it lists no process")
        chans = {c["destination"]: c for c in doc.get("channels", [])}
        c = chans.get(f"127.0.0.1:{port}", {})
        check(doc.get("tracing", {}).get("on") is False and doc.get("processes") == [] and
              c.get("now", {}).get("time_wait") == tw and doc.get("ticks") == 2,
              f"{what}: the rest works (channel TIME_WAIT {c.get('now')}, ticks "
              f"{doc.get('ticks')}, tracing {doc.get('tracing')})")


def main():
    isolate()
    bad_input()
    ways_out()
    on_a_terminal()
    if os.environ.get("PXTEST_ISOLATED") != "1" or \
            not can_run("watch in a namespace of its own", root=True, tools=("ss", "setpriv")):
        skip_part("the watch of a namespace this test fills", "needs root and a namespace")
        finish()
    # Only in the namespace this test made (nothing but lo in it): the host's sysctls are
    # never written.
    if [name for _, name in socket.if_nameindex()] != ["lo"]:
        check(False, "isolate() left this test in a namespace with other interfaces")
        finish()
    with tempfile.TemporaryDirectory(prefix="pxwatch") as d:
        r = exhaust_and_count(d)
        check_lines(r)
        check_document(os.path.join(d, "watch.json"), r)
        check_dest(r["port"], r["after"][0])
        without_tracing(d, r["port"], r["after"][0])
    finish()


if __name__ == "__main__":
    main()
