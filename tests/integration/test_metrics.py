# SPDX-License-Identifier: MIT
"""--metrics ADDR on every command: bad and busy addresses refused before any load, live
values that only go up under timestamps that only go forward, the final values equal to the
JSON (every counter, cause, gauge and histogram bucket), the linger (ended by the scrape of the
final values, by its time, or at once by a second SIGINT), hostile scrapers that cannot stall
the load, and the labels of compare's modes, ramp's steps, lab's modes and shards, serve."""
import json
import os
import signal
import socket
import threading
import time

from metricslib import (OPENMETRICS, PROMETHEUS, Live, expected, free_listener, matches, parse,
                        rss_kb, scrape, tmpfile, value)
from pxtest import Serve, books, can_run, check, finish, isolate, portex

PORTS = "40000-40099"


def one_line_refusal(args, code, text, what):
    t0 = time.monotonic()
    p = portex(*args, timeout=60)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == code and len(lines) == 1 and text in lines[0]
          and time.monotonic() - t0 < 20,
          f"{what}: exit {code} with one line ({p.returncode}, {lines})")


def refusals():
    """Bad, busy and unbindable ADDRs, on every command: one line, before any load."""
    srv = Serve()
    commands = (["run", "-n", "50", srv.url], ["compare", "-n", "50", srv.url],
                ["ramp", "--from", "10", "--to", "20", "--step", "10", srv.url],
                ["serve", "--listen", "127.0.0.1:0"], ["lab", "--modes", "noreuse"],
                ["watch", "--count", "1", "-q"])
    one_line_refusal(["run", "--metrics", "127.0.0.1", "-n", "5", srv.url], 2,
                     "invalid --metrics '127.0.0.1'", "ADDR without a port")
    one_line_refusal(["run", "--metrics", "127.0.0.1:65536", "-n", "5", srv.url], 2,
                     "invalid --metrics '127.0.0.1:65536'", "a port above 65535")
    one_line_refusal(["run", "--metrics-linger", "soon", "-n", "5", srv.url], 2,
                     "invalid --metrics-linger 'soon': expected 0 or a duration",
                     "a linger that is not a duration")
    busy, port = free_listener()
    refused = {
        "localhost:9100": (2, "invalid --metrics 'localhost:9100': expected IP:PORT", "a name"),
        f"127.0.0.1:{port}": (1, f"--metrics: cannot listen on 127.0.0.1:{port}: Address "
                              "already in use", "a port in use"),
        # Not an address of this namespace: bind fails, nothing is sent anywhere.
        "192.0.2.1:9100": (1, "--metrics: cannot listen on 192.0.2.1:9100: Cannot assign "
                           "requested address", "an address not of this host"),
    }
    for addr, (code, text, what) in refused.items():
        for args in commands:
            one_line_refusal([*args, "--metrics", addr], code, f"portex {args[0]}: {text}",
                             f"{args[0]} --metrics {addr} ({what})")
    busy.close()
    served = srv.stop()
    check(served["accepted"] == 0, f"no load was sent by any refused command ({served})")


def run_live_and_final():
    """Scrapes during a run only go up, under later timestamps; the final scrape is the JSON."""
    srv = Serve()
    out = tmpfile("run.json")
    live = Live("run", "--metrics", "127.0.0.1:0", "--metrics-linger", "30s", "-r", "400",
                "-d", "3s", "--interval", "500ms", "--port-range", PORTS, "-q", "--json", out,
                srv.url)
    check(live.url is not None, f"run says where its metrics are ({live.stderr()!r})")
    seen, problems = [], []
    while live.wait_for("serving the final", timeout=0.3) is None and live.proc.poll() is None:
        status, ctype, body = scrape(live.url)
        stamps = {ts for _, ts in parse(body).values()}
        if ctype != OPENMETRICS or not body.endswith("# EOF\n") or len(stamps) > 1:
            problems.append(f"{ctype} {len(stamps)} timestamps {body[-20:]!r}")
        requests = value(parse(body), "portex_requests_total")
        if requests is not None:
            seen.append((requests, float(stamps.pop())))
    check(not problems, f"every scrape: OpenMetrics, one timestamp, # EOF ({problems[:3]})")
    check(len(seen) >= 3 and all(b[0] >= a[0] for a, b in zip(seen, seen[1:])),
          f"portex_requests_total never goes back ({[v for v, _ in seen]})")
    check(all(b[1] > a[1] for a, b in zip(seen, seen[1:]) if b[0] != a[0]),
          "a new value always comes under a later timestamp")
    status, ctype, body = scrape(live.url, accept=None)
    rc, _, _ = live.end(timeout=10)
    check(ctype == PROMETHEUS and rc == 0,
          f"a scrape without Accept gets 0.0.4, and it ends the linger at once (rc {rc})")
    with open(out) as f:
        doc = json.load(f)
    samples = parse(body)
    bad = matches(samples, expected(doc))
    check(not bad, f"the final scrape equals the JSON, every bucket included ({bad[:4]})")
    s = doc["summary"]
    check(s["errors"].get("EADDRNOTAVAIL", 0) > 0, "the run had EADDRNOTAVAIL to count")
    check(value(samples, "portex_target_rate_per_second") == 400.0, "the target rate: 400/s")
    ceiling = value(samples, "portex_predicted_ceiling_per_second")
    check(abs(ceiling - s["predicted_ceiling_per_s"]) < 1e-6 * s["predicted_ceiling_per_s"],
          f"the predicted ceiling is the summary's ({ceiling}, {s['predicted_ceiling_per_s']})")
    check(value(samples, "portex_time_wait") == doc["series"][-1]["time_wait"],
          "portex_time_wait is the last row's TIME_WAIT")
    ticks_in_series(seen, doc["series"])
    srv.stop()


def ticks_in_series(seen, rows):
    """Each live value is a tick's: the requests ended by some series row (its running sum),
    stamped with that row's time, so every scrape's timestamp minus its row's t is one and
    the same instant: the run's start. (Rows that end nothing, as a drain may, share their
    running sum: any of them will do.)"""
    ended, total = {}, 0
    for r in rows:
        total += r["ok"] + r["failed"]
        ended.setdefault(total, []).append(r["t"])
    candidates = [seen[0][1] - t for t in ended.get(seen[0][0], [])] if seen else []
    start = next((c for c in candidates
                  if all(any(abs(ts - t - c) < 0.0015 for t in ended.get(v, []))
                         for v, ts in seen)), None)
    check(start is not None,
          f"every live value is a series row's, under that row's time (start {start}; "
          f"scrapes {[(v, ts) for v, ts in seen][:6]}, rows {sorted(ended.items())[:6]})")


def linger_and_signals():
    srv = Serve()
    live = Live("run", "--metrics", "127.0.0.1:0", "--metrics-linger", "1500ms", "-n", "20",
                "-q", srv.url)
    live.wait_for("serving the final")
    t0 = time.monotonic()
    rc, _, _ = live.end(timeout=30)
    waited = time.monotonic() - t0
    check(rc == 0 and 1.3 <= waited < 10,
          f"unscraped, the final values are served for --metrics-linger 1500ms ({waited:.2f} s)")

    out = tmpfile("stopped.json")
    live = Live("run", "--metrics", "127.0.0.1:0", "--metrics-linger", "30s", "-r", "50", "-d",
                "30s", "-q", "--json", out, srv.url)
    time.sleep(1.5)
    live.proc.send_signal(signal.SIGINT)
    check(live.wait_for("serving the final", timeout=20) is not None,
          "after SIGINT the run reports, then serves its final values")
    status, _, body = scrape(live.url)
    rc, _, _ = live.end(timeout=10)
    with open(out) as f:
        doc = json.load(f)
    bad = matches(parse(body), expected(doc))
    check(rc == 130 and doc["summary"]["interrupted"] and not bad,
          f"an interrupted run's final values equal its JSON ({rc}, {bad[:3]})")

    live = Live("run", "--metrics", "127.0.0.1:0", "--metrics-linger", "60s", "-r", "50", "-d",
                "30s", "-q", srv.url)
    time.sleep(1.5)
    live.proc.send_signal(signal.SIGINT)
    live.wait_for("serving the final", timeout=20)
    t0 = time.monotonic()
    live.proc.send_signal(signal.SIGINT)
    rc, _, _ = live.end(timeout=30)
    check(rc == 130 and time.monotonic() - t0 < 3,
          f"a second SIGINT ends the linger at once ({rc}, {time.monotonic() - t0:.2f} s)")
    srv.stop()


class Hostile:
    """A slowloris, a client that pipelines requests and never reads, and 20 idle connections."""

    def __init__(self, host, port):
        self.addr = (host, port)
        self.stop = False
        self.pipelined_bytes = 0
        self.idle = []
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self._slowloris, self._pipeline)]
        for t in self.threads:
            t.start()
        for _ in range(20):
            try:
                self.idle.append(socket.create_connection(self.addr, timeout=2))
            except OSError:
                break

    def _slowloris(self):
        s = socket.create_connection(self.addr)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        try:
            while not self.stop:
                s.send(b"a")
                time.sleep(0.2)
        except OSError:
            pass

    def _pipeline(self):
        s = socket.create_connection(self.addr)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        burst = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 200
        while not self.stop:
            try:
                self.pipelined_bytes += s.send(burst)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                return

    def end(self):
        self.stop = True
        for s in self.idle:
            s.close()


def hostile():
    """A slow or hostile scraper cannot stall the load: exact accounting, on time, bounded."""
    srv = Serve()
    out = tmpfile("hostile.json")
    # An ASan build keeps freed memory in quarantine (256 MB): RSS would count it as held.
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = dict(os.environ, ASAN_OPTIONS=f"{asan}:quarantine_size_mb=1".lstrip(":"))
    live = Live("run", "--metrics", "127.0.0.1:0", "--metrics-linger", "30s", "-r", "500",
                "-d", "4s", "-q", "--json", out, srv.url, env=env)
    port = int(live.url.split(":")[2].split("/")[0])
    rss0 = rss_kb(live.proc.pid)
    attack = Hostile("127.0.0.1", port)
    reported = live.wait_for("serving the final", timeout=60)
    load_s = time.monotonic() - live.started
    rss1 = rss_kb(live.proc.pid)
    check(reported is not None and load_s < 4 + 2 + 3,
          f"the 4 s run reports on time under attack ({load_s:.1f} s)")
    check(attack.pipelined_bytes < 32 << 20,
          f"the pipelining client could push only what is capped ({attack.pipelined_bytes} bytes)")
    check(rss1 - rss0 < 64 << 10, f"memory stays bounded ({rss0} kB -> {rss1} kB)")
    attack.end()
    status, _, body = scrape(live.url, timeout=20)
    rc, _, _ = live.end(timeout=15)
    with open(out) as f:
        doc = json.load(f)
    served = srv.stop()
    books("under attack", doc, scheduled=2000)
    check(doc["summary"]["ok"] == served["accepted"],
          f"every ok was accepted by the server ({doc['summary']['ok']}, {served['accepted']})")
    bad = matches(parse(body), expected(doc))
    check(status == 200 and rc == 0 and not bad,
          f"afterwards a normal scrape gets the final values and ends it ({rc}, {bad[:3]})")


def final_of(live, taken=None):
    """The final values: waits for the linger line, scrapes, waits for the exit. taken: the
    samples of a scrape that may already have taken the final values (and so ended the
    linger: nothing listens any more), used when the scrape finds no one."""
    live.wait_for("serving the final", timeout=120)
    try:
        samples = parse(scrape(live.url)[2])
    except OSError:
        samples = taken
    rc, out, _ = live.end(timeout=30)
    return rc, out, samples


COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")


def counters_only_go_up(live, what, modes):
    """Scrapes until the final values are served: no counter sample ever goes down or
    disappears, across the modes (or steps) one after another."""
    last, problems, scrapes, labels = {}, [], 0, set()
    while live.wait_for("serving the final", timeout=0.05) is None and live.proc.poll() is None:
        try:
            samples = parse(scrape(live.url)[2])
        except OSError:
            continue
        scrapes += 1
        for key, (v, _) in samples.items():
            if key[0].endswith(COUNTER_SUFFIXES):
                if v < last.get(key, 0):
                    problems.append(f"{key}: {last[key]} -> {v}")
                last[key] = v
        gone = [k for k in last if k not in samples]
        problems += [f"{k} disappeared" for k in gone[:2]]
        labels |= {dict(k[1]).get("mode") for k in samples}
    check(scrapes >= 3 and len(labels - {None}) >= modes and not problems,
          f"{what}: over {scrapes} scrapes, seeing modes {sorted(filter(None, labels))}, no counter "
          f"went back or disappeared ({problems[:3]})")
    return samples if scrapes else None


def compare_modes():
    srv = Serve()
    out = tmpfile("compare.json")
    live = Live("compare", "--modes", "short,short,keepalive", "-r", "400", "-d", "1500ms",
                "--interval", "250ms", "-c", "8", "-q", "--no-drain", "--metrics", "127.0.0.1:0",
                "--json", out, srv.url)
    last = counters_only_go_up(live, "compare", 3)
    rc, _, samples = final_of(live, last)
    with open(out) as f:
        modes = json.load(f)["modes"]
    for label, m in zip(("short", "short#2", "keepalive"), modes):
        bad = matches(samples, expected(m), mode=label)
        check(rc == 0 and not bad, f"compare: mode {label!r} ends at its JSON ({bad[:3]})")
    srv.stop()


def ramp_steps():
    srv = Serve()
    out = tmpfile("ramp.json")
    live = Live("ramp", "--from", "100", "--to", "300", "--step", "100", "--step-duration",
                "1s", "-q", "--metrics", "127.0.0.1:0", "--json", out, srv.url)
    last = counters_only_go_up(live, "ramp", 2)
    rc, _, samples = final_of(live, last)
    with open(out) as f:
        steps = json.load(f)["steps"]
    for st in steps:
        label = f"step-{st['rate_per_s']:g}/s"
        got = value(samples, "portex_requests_total", mode=label)
        check(rc == 0 and got == st["summary"]["requests"],
              f"ramp: {label} ends at its step's requests ({got}, {st['summary']['requests']})")
    srv.stop()


def serve_counts():
    live = Live("serve", "--listen", "127.0.0.1:0", "-t", "1", "--metrics", "127.0.0.1:0")
    listen = live.wait_for("listening on")
    url = "http://" + listen.split("listening on ")[1].split()[0] + "/"
    p = portex("run", "-n", "300", "-c", "4", "-q", url)
    check(p.returncode == 0, "a run against serve")
    time.sleep(1.2)  # serve publishes once a second
    _, _, body = scrape(live.url)
    live.proc.send_signal(signal.SIGTERM)
    rc, out, final = final_of(live)
    counts = json.loads(out.strip().splitlines()[-1])
    check(value(parse(body), "portex_serve_accepted_total") == 300,
          "serve's accepted connections live, once a second")
    check(rc == 0 and value(final, "portex_serve_accepted_total") == counts["accepted"] and
          value(final, "portex_serve_requests_total") == counts["requests"] and
          value(final, "portex_serve_accept_errors_total") == counts["accept_errors"],
          f"serve's final values are its final line ({counts})")


def watch_channels():
    """watch --metrics: the channel toward a server holds the TIME_WAIT a run left, live
    and in the final values."""
    srv = Serve()
    dest = srv.url.split("//")[1].rstrip("/")
    live = Live("watch", "--interval", "500ms", "-d", "3s", "-q", "--metrics", "127.0.0.1:0",
                "--metrics-linger", "20s")
    p = portex("run", "-n", "300", "-c", "4", "-q", "--json", "-", srv.url)
    tw = json.loads(p.stdout)["summary"]["time_wait_peak"] if p.returncode == 0 else None
    time.sleep(1.2)
    body = scrape(live.url)[2] if live.url else ""
    got = value(parse(body), "portex_watch_channel_time_wait", destination=dest)
    rc, _, final = final_of(live)
    fin = value(final, "portex_watch_channel_time_wait", destination=dest)
    check(tw == 300 and got == tw and fin == tw and rc == 0,
          f"watch: portex_watch_channel_time_wait toward {dest} is the run's TIME_WAIT, live "
          f"and final ({got}, {fin}, run {tw}, exit {rc})")
    usable = value(final, "portex_watch_usable_ports")
    check(usable is not None and usable > 0, f"watch: portex_watch_usable_ports ({usable})")
    srv.stop()


def lab_modes():
    if not can_run("lab --metrics", root=True, tools=("ip",)):
        return
    out = tmpfile("lab.json")
    live = Live("lab", "--modes", "noreuse,hosts4", "--ports", "100", "-r", "400", "-d", "2s",
                "-q", "--metrics", "127.0.0.1:0", "--json", out)
    rc, _, samples = final_of(live)
    with open(out) as f:
        modes = {m["name"]: m for m in json.load(f)["modes"]}
    bad = matches(samples, expected(modes["noreuse"]), mode="noreuse")
    check(rc == 0 and not bad, f"lab: mode noreuse ends at its JSON ({bad[:3]})")
    merged = modes["hosts4"]["summary"]
    for name, key in (("portex_requests_total", "requests"), ("portex_ok_total", "ok")):
        shards = [value(samples, name, mode="hosts4", shard=f"{k}/4") for k in range(4)]
        check(None not in shards and sum(shards) == merged[key],
              f"lab hosts4: {name} of the 4 shards add up to the merged {key} ({shards})")
    ea = [value(samples, "portex_failures_total", mode="hosts4", shard=f"{k}/4",
                cause="EADDRNOTAVAIL") for k in range(4)]
    check(sum(ea) == merged["errors"].get("EADDRNOTAVAIL", 0) > 0,
          f"lab hosts4: EADDRNOTAVAIL of the shards add up ({ea})")


def main():
    isolate()
    refusals()
    run_live_and_final()
    linger_and_signals()
    hostile()
    compare_modes()
    ramp_steps()
    serve_counts()
    watch_channels()
    lab_modes()
    finish()


if __name__ == "__main__":
    main()
