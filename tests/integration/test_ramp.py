# SPDX-License-Identifier: MIT
"""portex ramp: exact step accounting, knee and port-bound verdicts that follow from the counts."""
import json
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

from pxtest import (PORTEX, WAIT_LISTEN, Serve, books, can_run, check, finish, in_new_netns,
                    isolate, spawn)


def verdicts_follow_from_counts(doc, max_p99_us=None):
    """Recomputes every step's verdict and the knee from the step's own counts."""
    knee = None
    for st in doc["steps"]:
        s, rate = st["summary"], st["rate_per_s"]
        if st["interrupted"]:
            continue
        books(f"{rate:.0f}/s", st, round(rate * st["step_s"]))
        want = s["requests"] + s["missed_starts"]
        check(want == round(rate * st["step_s"]),
              f"{rate:.0f}/s: requests + missed starts == rate x step ({want})")
        check(s["requests"] == s["ok"] + s["failed"], f"{rate:.0f}/s: requests = ok + failed")
        passed = (s["ok"] >= 0.99 * rate * st["step_s"] and s["failed"] == 0 and
                  (max_p99_us is None or s["latency_us"]["total"]["p99"] <= max_p99_us))
        check(st["passed"] == passed, f"{rate:.0f}/s: passed={st['passed']} follows from the counts")
        ceiling = st["predicted_ceiling_per_s"]
        bound = isinstance(ceiling, (int, float)) and rate > ceiling
        check(st["port_bound"] == bound,
              f"{rate:.0f}/s: port_bound={st['port_bound']} from rate vs ceiling {ceiling}")
        if passed and (knee is None or rate > knee):
            knee = rate
    check(doc["knee_per_s"] == knee, f"knee {doc['knee_per_s']} is the highest passing step ({knee})")


def host_loopback_port_range():
    """100 ports and tcp_tw_reuse=2 on loopback: about 100/s, so every step from 200/s fails."""
    srv = Serve()
    p = subprocess.run([PORTEX, "ramp", "--from", "200", "--to", "1000", "--step", "200",
                        "--step-duration", "1s", "--port-range", "40000-40099", "-q",
                        "--json", "-", srv.url], capture_output=True, text=True, timeout=120)
    counts = srv.stop()
    check(p.returncode == 0, f"ramp exits 0 ({p.returncode}: {p.stderr.strip()[-300:]})")
    doc = json.loads(p.stdout)
    check(doc["command"] == "ramp" and doc["planned_steps"] == 5, "command ramp, 5 planned steps")
    verdicts_follow_from_counts(doc)
    failed = sum(1 for st in doc["steps"] if not st["passed"])
    ran = len(doc["steps"])
    check(failed >= 2 or ran == 5, f"ramp went on until two steps failed ({failed} of {ran})")
    check(doc["stopped_early"] == (ran < 5), "stopped_early when steps were left out")
    if failed >= 2:
        last_two = [i for i, st in enumerate(doc["steps"]) if not st["passed"]][:2]
        check(ran == last_two[1] + 1, f"stopped right after the second failing step ({ran})")
    opened = sum(st["summary"]["connections_opened"] for st in doc["steps"])
    ok = sum(st["summary"]["ok"] for st in doc["steps"])
    check(counts["accepted"] == opened, f"server accepted {counts['accepted']} == opened {opened}")
    check(counts["requests"] == ok, f"server answered {counts['requests']} == ok {ok}")
    eaddr = sum(st["summary"]["errors"].get("EADDRNOTAVAIL", 0) for st in doc["steps"])
    check(eaddr > 0, f"100 ports run out: EADDRNOTAVAIL counted ({eaddr})")
    check("port-bound" in p.stderr and "P / step time" in p.stderr,
          "the text names the port-bound steps and P / step time")


NETNS = WAIT_LISTEN + r"""
ip link set lo up
echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse
"$1" serve --listen 127.0.0.1:8080 -t 1 >/dev/null 2>&1 &
srv=$!
trap 'kill -TERM $srv 2>/dev/null' EXIT
wait_listen 8080 || exit 1
"$1" ramp --from 40 --to 200 --step 40 --step-duration 1s --no-stop --port-range 40000-40099 \
    -q --json "$2/r.json" --svg "$2/r.svg" http://127.0.0.1:8080/ > "$2/r.txt" 2>&1
echo "rc=$?"
kill -TERM $srv; wait $srv
trap - EXIT
"""


def namespace_no_reuse_knee():
    """tcp_tw_reuse=0: 100 ports for the whole ramp, so 40/s passes and 80/s runs out."""
    if not can_run("ramp in a namespace with tcp_tw_reuse=0", root=True,
                   tools=("unshare", "ip", "ss")):
        return
    with tempfile.TemporaryDirectory() as d:
        p = in_new_netns(NETNS, PORTEX, d)
        check("rc=0" in p.stdout, f"ramp in a namespace exits 0 ({p.stdout.strip()} {p.stderr[-200:]})")
        doc = json.load(open(f"{d}/r.json"))
        text = open(f"{d}/r.txt").read()
        svg = ET.parse(f"{d}/r.svg").getroot()
    verdicts_follow_from_counts(doc)
    check(len(doc["steps"]) == 5 and not doc["stopped_early"], "--no-stop ran all 5 steps")
    check(doc["knee_per_s"] == 40, f"knee at 40/s: the only step within 100 ports ({doc['knee_per_s']})")
    ok = sum(st["summary"]["ok"] for st in doc["steps"])
    check(95 <= ok <= 100, f"no reuse: at most the 100 ports succeed in the whole ramp ({ok})")
    short = [st["shorter_than_port_hold"] for st in doc["steps"] if st["port_bound"]]
    check(short and all(short), "every port-bound 1 s step is shorter than TIME_WAIT")
    check("cannot show the sustained ceiling" in text and "P / step time = 100.0/s" in text,
          "the text says a 1 s step cannot show the sustained ceiling, with P / step time")
    check("knee 40/s" in ET.tostring(svg, encoding="unicode"), "the SVG marks the knee")


def sigint_reports_what_ran():
    srv = Serve()
    p = spawn([PORTEX, "ramp", "--from", "50", "--to", "150", "--step", "50",
                          "--step-duration", "2s", "-q", "--json", "-", srv.url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    srv.stop()
    check(p.returncode == 130, f"SIGINT: exit 130 ({p.returncode}: {err.strip()[-200:]})")
    doc = json.loads(out)
    check(doc["interrupted"] and 1 <= len(doc["steps"]) <= 2,
          f"the steps that ran are reported ({len(doc['steps'])})")
    check(doc["steps"][-1]["interrupted"] and not doc["steps"][-1]["passed"],
          "the cut step is marked interrupted, not passed")
    check("Interrupted" in err, "the text says it was interrupted")


def usage_errors():
    p = subprocess.run([PORTEX, "ramp", "--from", "10", "--to", "20", "--step", "5", "-r", "5",
                        "http://127.0.0.1:9/"], capture_output=True, text=True)
    check(p.returncode == 2 and "-r" in p.stderr, f"-r is refused ({p.returncode}: {p.stderr.strip()})")
    p = subprocess.run([PORTEX, "ramp", "--from", "10", "--step", "5", "http://127.0.0.1:9/"],
                       capture_output=True, text=True)
    check(p.returncode == 2 and "--to" in p.stderr, f"missing --to: exit 2 ({p.stderr.strip()})")
    p = subprocess.run([PORTEX, "ramp", "--from", "100", "--to", "50", "--step", "5",
                        "http://127.0.0.1:9/"], capture_output=True, text=True)
    check(p.returncode == 2 and "--to" in p.stderr, f"--to under --from: exit 2 ({p.stderr.strip()})")
    p = subprocess.run([PORTEX, "ramp", "--help"], capture_output=True, text=True)
    check(p.returncode == 0 and "--step-duration" in p.stdout, "ramp --help")


if __name__ == "__main__":
    isolate()
    usage_errors()
    host_loopback_port_range()
    namespace_no_reuse_knee()
    sigint_reports_what_ran()
    finish()
