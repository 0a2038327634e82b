# SPDX-License-Identifier: MIT
"""Hostile and first-time use: signals at odd moments, outputs that collide, bad addresses."""
import json
import os
import signal
import subprocess
import tempfile
import time

from pxtest import PORTEX, Serve, can_run, check, finish, portex, spawn


def sigint_during_start_at_wait():
    """README: a run stopped by SIGINT or SIGTERM exits 130, also while it waits for --start-at."""
    srv = Serve()
    tmp = tempfile.mkdtemp()
    outs = [os.path.join(tmp, n) for n in ("r.json", "r.hlog")]
    for sig in (signal.SIGINT, signal.SIGTERM):
        start = f"{time.time() + 30:.1f}"
        p = spawn([PORTEX, "run", "--start-at", start, "-n", "5", "-q", "--json",
                              outs[0], "--hlog", outs[1], srv.url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        p.send_signal(sig)
        out, err = p.communicate(timeout=20)
        lines = err.strip().splitlines()
        check(p.returncode == 130, f"{sig.name} during the --start-at wait exits 130 ({p.returncode})")
        check(lines and "interrupted while waiting for --start-at" in lines[-1],
              f"{sig.name} during the wait says so in one line ({lines[-1:]})")
        check(not any(os.path.exists(o) for o in outs),
              f"no empty --json or --hlog file is left ({os.listdir(tmp)})")
    served = srv.stop()
    check(served["accepted"] == 0, f"nothing was sent ({served})")


def serve_refuses_a_port_in_use():
    """A second `portex serve` on the port of a running one must fail (exit 1, one line),
    not join it through SO_REUSEPORT and silently take half of its connections."""
    first = Serve()
    p = spawn([PORTEX, "serve", "--listen", f"127.0.0.1:{first.port}", "-t", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
        err = "still running: " + err
    lines = err.strip().splitlines()
    check(p.returncode == 1, f"serve on a port in use exits 1 ({p.returncode})")
    check(len(lines) == 1 and "Address already in use" in lines[0],
          f"and says so in one line ({lines})")
    served = first.stop()
    check(served["accepted"] == 0, f"the first server is untouched ({served})")


def lab_low_rate_does_not_claim_exhaustion():
    """lab -r 100 -d 1s: 100 requests fit in 1000 ports; the story must not say they ran out."""
    if not can_run("lab at a rate below the ports", root=True, tools=("ip",)):
        return
    p = portex("lab", "--modes", "noreuse", "-r", "100", "-d", "1s", "-q", timeout=120)
    check(p.returncode == 0, f"lab exits 0 ({p.returncode} {p.stderr[-200:]})")
    check("ports ran out after" not in p.stdout, "no 'ports ran out after' without an EADDRNOTAVAIL")
    check("never ran out" in p.stdout, "it says the ports never ran out")


def doctor_unresolved_target_claims_nothing_about_it():
    """doctor with a name that does not resolve: exit 1 with the reason, and no TIME_WAIT
    count or trap 'toward this target' (there is no address to count or judge)."""
    p = portex("doctor", "--json", "-", "http://nonexistent.invalid/", timeout=30)
    check(p.returncode == 1, f"doctor of an unresolvable host exits 1 ({p.returncode})")
    doc = json.loads(p.stdout)
    check("cannot resolve" in doc["target"]["error"], f"the reason is given ({doc['target']})")
    check(doc["time_wait"].get("target") is None, f"no TIME_WAIT toward it ({doc['time_wait']})")
    check(not any("this target" in f for f in doc["flags"]), f"no trap toward it ({doc['flags']})")


def port_range_outside_namespace_range_is_said():
    """--port-range wholly outside ip_local_port_range is ignored by the kernel (each bound
    counts only inside it): run says so on stderr instead of silently using every port."""
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    srv = Serve()
    if hi < 65535:
        p = portex("run", "-q", "-n", "3", "--port-range", f"{hi + 1}-65535", srv.url, timeout=30)
        check(p.returncode == 0, f"run exits 0 ({p.returncode})")
        check(f"is not inside ip_local_port_range {lo}-{hi}" in p.stderr,
              f"the ignored range is named ({p.stderr.strip().splitlines()[:1]})")
    p = portex("run", "-q", "-n", "3", "--port-range", f"{lo}-{lo + 99}", srv.url, timeout=30)
    check("ip_local_port_range" not in p.stderr, "a range inside gets no warning")
    srv.stop()


def closed_stdout_and_stderr_keep_the_json_intact():
    """Started with fds 1 and 2 closed, the --json file used to get fd 1, so the text report
    was written into it and it no longer parsed (exit 0). Now the text fails (exit 1)."""
    srv = Serve()
    path = os.path.join(tempfile.mkdtemp(), "r.json")
    p = subprocess.run([PORTEX, "run", "-n", "3", "-q", "--json", path, srv.url],
                       preexec_fn=lambda: (os.close(1), os.close(2)), timeout=30)
    srv.stop()
    check(p.returncode == 1, f"the text report cannot be written: exit 1 ({p.returncode})")
    try:
        doc = json.load(open(path))
        ok = doc["summary"]["requests"] == 3
    except (OSError, ValueError, KeyError):
        ok = False
    check(ok, "the --json file holds the run's JSON, nothing else")


if __name__ == "__main__":
    closed_stdout_and_stderr_keep_the_json_intact()
    port_range_outside_namespace_range_is_said()
    doctor_unresolved_target_claims_nothing_about_it()
    lab_low_rate_does_not_claim_exhaustion()
    serve_refuses_a_port_in_use()
    sigint_during_start_at_wait()
    finish()
