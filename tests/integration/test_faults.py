# SPDX-License-Identifier: MIT
"""Faults: bodiless responses, output errors (bad paths, /dev/full, closed pipes), interrupted runs."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from pxtest import PORTEX, RawServer, Serve, check, finish, portex, skip_part, spawn


def read_request(c, buf):
    """Reads one request head from c; returns the bytes after it, or None at EOF."""
    while b"\r\n\r\n" not in buf:
        data = c.recv(4096)
        if not data:
            return None
        buf += data
    return buf.split(b"\r\n\r\n", 1)[1]


def answering(*answers):
    """A handler that answers every request on a connection with the answers in turn
    (the last one repeats) and keeps the connection open until the client closes it."""
    def handler(c):
        buf, i = b"", 0
        try:
            while True:
                buf = read_request(c, buf)
                if buf is None:
                    break
                c.sendall(answers[min(i, len(answers) - 1)])
                i += 1
        except OSError:
            pass
        c.close()
    return handler


def run_json(*args, timeout=60):
    p = subprocess.run([PORTEX, "run", *args, "--json", "-"], capture_output=True, text=True,
                       timeout=timeout)
    doc = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, doc, p.stderr


def bodiless_case(name, answers, *args, n=4):
    srv = RawServer(answering(*answers))
    rc, doc, err = run_json("-n", str(n), "-c", str(min(n, 4)), "--timeout", "2s", *args, srv.url)
    srv.stop()
    s = doc["summary"] if doc else {}
    check(rc == 0 and s.get("ok") == n and s.get("failed") == 0,
          f"{name}: {n} ok, no failure ({s.get('ok')} ok, errors {s.get('errors')}, rc {rc})")
    check("request_timeout" not in s.get("errors", {}), f"{name}: no request_timeout")
    return s


def bodiless_responses():
    for status in (b"204 No Content", b"304 Not Modified"):
        ans = b"HTTP/1.1 " + status + b"\r\nContent-Length: 5\r\n\r\n"
        bodiless_case(status.decode() + " with Content-Length: 5", [ans])
        bodiless_case(status.decode() + " with Content-Length: 5, -k", [ans], "-k", n=20)
        chunked = b"HTTP/1.1 " + status + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        bodiless_case(status.decode() + " with Transfer-Encoding: chunked", [chunked])
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    bodiless_case("HEAD with Content-Length: 5", [head], "-m", "HEAD")
    bodiless_case("HEAD with Content-Length: 5, -k", [head], "-m", "HEAD", "-k", n=20)


def interim_responses():
    final = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    bodiless_case("100 Continue then 200", [b"HTTP/1.1 100 Continue\r\n\r\n" + final], "-k", n=20)
    bodiless_case("103 with Content-Length: 5 then 200",
                  [b"HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\n" + final], n=4)
    bodiless_case("two 1xx, the first with Connection: close, then 200",
                  [b"HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n"
                   b"HTTP/1.1 102 Processing\r\n\r\n" + final], n=4)


def switching_protocols_never_reused():
    up = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    # A later request on the same connection would get a quick 200: reuse shows as ok.
    srv = RawServer(answering(up, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    rc, doc, err = run_json("-k", "-n", "6", "-c", "1", "--timeout", "2s", srv.url)
    srv.stop()
    s = doc["summary"]
    check(s["connections_opened"] == 6 and s["requests"] == 6,
          f"101 under -k: a new connection per request ({s['connections_opened']} for {s['requests']})")
    check(s["errors"] == {"switching_protocols": 6},
          f"101 is counted as switching_protocols ({s['errors']})")
    srv = RawServer(answering(up))
    text = portex("run", "-k", "-n", "2", "-c", "1", "-q", "--timeout", "2s", srv.url).stdout
    srv.stop()
    check("101 Switching Protocols" in text, "the text report labels the 101 cause")


def one_line(err):
    return len(err.strip().splitlines()) == 1


def fails_fast(what, argv, path):
    t0 = time.monotonic()
    try:
        p = subprocess.run([PORTEX, *argv], capture_output=True, text=True, timeout=15)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        rc, err = None, ""
    took = time.monotonic() - t0
    check(rc == 1 and took < 2.0, f"{what}: exit 1 in under 2 s (rc {rc}, {took:.1f} s)")
    check(one_line(err) and path in err and "No such file or directory" in err,
          f"{what}: one line naming the path and the reason ({err.strip()!r})")


def bad_output_path_fails_fast():
    srv = Serve()
    bad = "/nonexistent/dir/x.json"
    for opt in ("--json", "--csv", "--svg"):
        fails_fast(f"run {opt} {bad}", ["run", "-d", "30s", "-q", opt, bad, srv.url], bad)
    fails_fast(f"compare --json {bad}",
               ["compare", "--no-drain", "-d", "30s", "-q", "--json", bad, srv.url], bad)
    fails_fast(f"compare --svg {bad}",
               ["compare", "--no-drain", "-d", "30s", "-q", "--svg", bad, srv.url], bad)
    counts = srv.stop()
    check(counts["accepted"] == 0, f"no load was sent before the check ({counts['accepted']})")
    if os.geteuid() == 0:
        fails_fast(f"lab --csv {bad}", ["lab", "--modes", "keepalive", "-d", "30s", "-q",
                                         "--csv", bad], bad)
    else:
        skip_part("lab --csv bad path", "needs root; CI runs as root")
    fails_fast(f"doctor --json {bad}", ["doctor", "--json", bad], bad)


def dev_full_and_closed_pipe():
    srv = Serve()
    p = portex("run", "-n", "20", "-c", "2", "-q", "--json", "/dev/full", srv.url)
    check(p.returncode == 1 and one_line(p.stderr) and "/dev/full" in p.stderr
          and "No space left" in p.stderr,
          f"--json /dev/full: exit 1, one line ({p.returncode}, {p.stderr.strip()!r})")
    p = portex("run", "-n", "20", "-c", "2", "-q", "--csv", "/dev/full", srv.url)
    check(p.returncode == 1 and one_line(p.stderr) and "/dev/full" in p.stderr,
          f"--csv /dev/full: exit 1, one line ({p.returncode}, {p.stderr.strip()!r})")

    with open("/dev/full", "w") as full:
        p = subprocess.run([PORTEX, "run", "-n", "20", "-c", "2", "-q", srv.url], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    check(p.returncode == 1 and one_line(p.stderr) and "stdout" in p.stderr,
          f"text report to /dev/full: exit 1, one line ({p.returncode}, {p.stderr.strip()!r})")

    # --json - into a pipe nobody reads any more (portex run ... --json - | head -c0).
    r, w = os.pipe()
    os.close(r)
    try:
        p = subprocess.run([PORTEX, "run", "-n", "20", "-c", "2", "-q", "--json", "-", srv.url],
                           stdout=w, stderr=subprocess.PIPE, text=True, timeout=60)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        rc, err = None, "hung"
    os.close(w)
    # The text report goes to stderr with --json -: the error is its own last line.
    errs = [l for l in err.splitlines() if l.startswith("portex run:")]
    check(rc == 1 and errs == ["portex run: cannot write to stdout: Broken pipe"]
          and err.splitlines()[-1] == errs[0],
          f"--json - into a closed pipe: exit 1, one error line, no crash ({rc}, {errs})")

    p = subprocess.run(f"'{PORTEX}' run -n 2000 -c 2 -q --json - {srv.url} | head -c1",
                       shell=True, capture_output=True, text=True, timeout=60,
                       executable="/bin/bash")
    check(p.stdout == "{", f"| head -c1 gets the first byte ({p.stdout!r})")
    srv.stop()

    srv = Serve()
    p = portex("doctor", "--json", "/dev/full", srv.url)
    check(p.returncode == 1 and "/dev/full" in p.stderr,
          f"doctor --json /dev/full: exit 1 ({p.returncode}, {p.stderr.strip()!r})")
    p = portex("compare", "--no-drain", "--modes", "keepalive", "-n", "20", "-q", "--json",
               "/dev/full", srv.url)
    check(p.returncode == 1 and one_line(p.stderr) and "/dev/full" in p.stderr,
          f"compare --json /dev/full: exit 1, one line ({p.returncode}, {p.stderr.strip()!r})")
    srv.stop()


def serve_final_line_to_dev_full():
    with open("/dev/full", "w") as full:
        p = spawn([PORTEX, "serve", "--listen", "127.0.0.1:0"], stdout=full,
                             stderr=subprocess.PIPE, text=True)
        line = p.stderr.readline()
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
    check("listening" in line, "serve started")
    check(p.returncode == 1 and "stdout" in err,
          f"serve's final line to /dev/full: exit 1 with a message ({p.returncode}, {err.strip()!r})")


def interrupt(argv, after):
    p = spawn([PORTEX, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(after)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    return p.returncode, out, err


def interrupted_runs():
    srv = Serve()
    for sig in (signal.SIGINT, signal.SIGTERM):
        p = spawn([PORTEX, "run", "-d", "30s", "-c", "4", "-q", "--json", "-", srv.url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        t0 = time.monotonic()
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
        took = time.monotonic() - t0
        doc = json.loads(out) if out.strip() else {}
        s = doc.get("summary", {})
        check(p.returncode == 130, f"run stopped by {sig.name}: exit 130 ({p.returncode})")
        check(s.get("interrupted") is True and s.get("ok", 0) > 0 and took < 5,
              f"{sig.name}: summary.interrupted true, what ran is reported "
              f"({s.get('interrupted')}, {s.get('ok')} ok, {took:.1f} s)")
        check("interrupted by a signal" in err, "the text report says it was interrupted")

    rc, out, err = interrupt(["run", "-d", "30s", "-c", "4", "-q", srv.url], 1.5)
    check(rc == 130 and "interrupted by a signal" in out, f"text-only run: exit 130, says so ({rc})")

    p = portex("run", "-n", "50", "-c", "2", "-q", "--json", "-", srv.url)
    doc = json.loads(p.stdout)
    check(p.returncode == 0 and doc["summary"].get("interrupted") is False,
          f"a normal run: exit 0, summary.interrupted false ({p.returncode})")
    check("interrupted" not in p.stderr, "a normal run does not say interrupted")

    rc, out, err = interrupt(["compare", "--no-drain", "--modes", "short,keepalive", "-d", "30s",
                              "-q", "--json", "-", srv.url], 1.5)
    doc = json.loads(out) if out.strip() else {"modes": [{}]}
    first = doc["modes"][0]
    check(rc == 130, f"compare interrupted: exit 130 ({rc})")
    check(first.get("ran") and first["summary"].get("interrupted") is True,
          "compare: the interrupted mode's summary says interrupted")

    # An output error outranks the interruption: exit 1.
    rc, out, err = interrupt(["run", "-d", "30s", "-q", "--json", "/dev/full", srv.url], 1.5)
    check(rc == 1 and "/dev/full" in err, f"interrupted with an output error: exit 1 ({rc})")
    srv.stop()


def interrupted_lab():
    if os.geteuid() != 0:
        skip_part("lab interrupted", "needs root; CI runs as root")
        return
    rc, out, err = interrupt(["lab", "--modes", "keepalive", "-d", "20s", "-q", "--json", "-"], 3)
    doc = json.loads(out) if out.strip() else {"modes": [{}]}
    mode = doc["modes"][0]
    check(rc == 130, f"lab interrupted: exit 130 ({rc}, {err.strip()[-200:]!r})")
    check(mode.get("ran") and mode["summary"].get("interrupted") is True,
          "lab: the interrupted mode's summary says interrupted")


def setup_without_root_or_sudo():
    # A copy of scripts/setup.sh, a dpkg-query that finds nothing installed,
    # and a PATH with only the tools the script needs: no sudo, no apt-get.
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    tools = [os.path.realpath(shutil.which(t)) for t in ("bash", "dirname", "grep", "id")]
    before = [os.stat(t).st_ctime_ns for t in tools]
    tmp = tempfile.mkdtemp(prefix="px-setup-")
    try:
        os.makedirs(f"{tmp}/repo/scripts")
        shutil.copy(f"{repo}/scripts/setup.sh", f"{tmp}/repo/scripts/setup.sh")
        os.makedirs(f"{tmp}/bin")
        for tool in ("bash", "dirname", "grep", "id"):
            os.symlink(shutil.which(tool), f"{tmp}/bin/{tool}")
        with open(f"{tmp}/bin/dpkg-query", "w") as f:
            f.write("#!/bin/sh\nexit 1\n")
        # Only what this test created: chmod follows a symlink, and the links point at
        # the system's own bash, dirname, grep and id.
        for dirpath, _, files in os.walk(tmp):
            os.chmod(dirpath, 0o755)
            for name in files:
                path = os.path.join(dirpath, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o755)
        who = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] \
            if os.geteuid() == 0 else []
        p = subprocess.run([*who, "/usr/bin/env", f"PATH={tmp}/bin", "bash",
                            f"{tmp}/repo/scripts/setup.sh", f"{tmp}/build"],
                           capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(tmp)
    # A test never touches system files: even a chmod to the same mode moves a file's ctime.
    check([os.stat(t).st_ctime_ns for t in tools] == before,
          f"the system's {', '.join(tools)} are untouched (their ctime did not move)")
    check(p.returncode != 0 and "run as root, or install sudo" in p.stderr
          and "command not found" not in p.stderr,
          f"setup.sh without root or sudo says what to do ({p.returncode}, {p.stderr.strip()!r})")


if __name__ == "__main__":
    bodiless_responses()
    interim_responses()
    switching_protocols_never_reused()
    bad_output_path_fails_fast()
    dev_full_and_closed_pipe()
    serve_final_line_to_dev_full()
    interrupted_runs()
    interrupted_lab()
    setup_without_root_or_sudo()
    finish()
