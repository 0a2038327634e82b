# SPDX-License-Identifier: MIT
"""-k --requests-per-conn N: N requests per connection, then the close policy; N x the ceiling."""
import json
import subprocess

from pxtest import PORTEX, Serve, books, can_run, check, finish, isolate, run


def exactly_n_per_connection():
    srv = Serve()
    rc, doc, err = run("-n", "1000", "-c", "1", "-t", "1", "-k", "--requests-per-conn", "10", "-q",
                       srv.url)
    counts = srv.stop()
    check(rc == 0, f"run exits 0 ({rc}: {err.strip()[-200:]})")
    s = doc["summary"]
    books("-k --requests-per-conn 10", doc)
    check(s["ok"] == 1000, f"1000 ok ({s['ok']})")
    check(counts["accepted"] == 100, f"server accepted exactly 100 connections ({counts['accepted']})")
    check(counts["requests"] == 1000, f"server answered 1000 requests ({counts['requests']})")
    check(s["connections_opened"] == 100, f"client opened 100 ({s['connections_opened']})")
    check(doc["config"]["requests_per_conn"] == 10 and doc["config"]["close"] == "client",
          f"config names N and the close policy ({doc['config'].get('requests_per_conn')})")
    check("10 requests per connection: 10 x (client closes first" in s["ceiling_formula"],
          f"the ceiling is 10 x the short one ({s['ceiling_formula']})")


def many_slots_at_most_one_partial_connection_each():
    """With -c 10 a slot's last connection may carry fewer than N when -n runs out."""
    srv = Serve()
    rc, doc, err = run("-n", "1000", "-c", "10", "-k", "--requests-per-conn", "10", "-q", srv.url)
    counts = srv.stop()
    s = doc["summary"]
    check(rc == 0 and s["ok"] == 1000, f"1000 ok ({rc}, {s['ok']})")
    check(100 <= counts["accepted"] <= 110 and counts["accepted"] == s["connections_opened"],
          f"100 to 110 connections, server and client agree ({counts['accepted']}, "
          f"{s['connections_opened']})")


def close_policies_after_n():
    for close in ("server", "rst"):
        srv = Serve()
        rc, doc, err = run("-n", "500", "-c", "1", "-t", "1", "-k", "--requests-per-conn", "5",
                           "--close", close, "-q", srv.url)
        counts = srv.stop()
        s = doc["summary"] if doc else {}
        check(rc == 0 and s.get("ok") == 500, f"--close {close}: 500 ok ({rc}, {s.get('ok')})")
        check(counts["accepted"] == 100, f"--close {close}: exactly 100 connections "
              f"({counts['accepted']})")
        check(s.get("failed") == 0, f"--close {close}: no failure ({s.get('errors')})")
        # The Nth request asks the server to close, and the client waits for its FIN:
        # the server holds TIME_WAIT, none is left toward the target (RST leaves none).
        check(s.get("time_wait_peak") == 0,
              f"--close {close}: no TIME_WAIT on the client ({s.get('time_wait_peak')})")


def compare_conn10_mode():
    srv = Serve()
    p = subprocess.run([PORTEX, "compare", "--modes", "conn10", "-n", "200", "-c", "1", "-t", "1",
                        "-q", "--json", "-", srv.url], capture_output=True, text=True, timeout=120)
    counts = srv.stop()
    check(p.returncode == 0, f"compare conn10 exits 0 ({p.returncode}: {p.stderr.strip()[-200:]})")
    m = json.loads(p.stdout)["modes"][0]
    check(m["summary"]["ok"] == 200 and counts["accepted"] == 20,
          f"conn10: 200 requests over 20 connections ({m['summary']['ok']}, {counts['accepted']})")


def lab_noreuse_conn10():
    """1000 ports, no reuse, 2000 requests: one per connection runs out, ten per connection not."""
    if not can_run("lab modes noreuse and noreuse-conn10", root=True, tools=("ip",)):
        return
    p = subprocess.run([PORTEX, "lab", "--modes", "noreuse,noreuse-conn10", "-r", "1000", "-d",
                        "2s", "-q", "--json", "-"], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"lab exits 0 ({p.returncode}: {p.stderr.strip()[-200:]})")
    m = {x["name"]: x for x in json.loads(p.stdout)["modes"]}
    for name, x in m.items():
        books(name, x, 2000)
    one, ten = m["noreuse"]["summary"], m["noreuse-conn10"]["summary"]
    check(one["errors"].get("EADDRNOTAVAIL", 0) > 0 and one["ok"] <= 1000,
          f"noreuse: the 1000 ports run out ({one['ok']} ok)")
    check(ten["errors"].get("EADDRNOTAVAIL", 0) == 0 and ten["failed"] == 0,
          f"noreuse-conn10: no EADDRNOTAVAIL ({ten['errors']})")
    check(ten["ok"] + ten["missed_starts"] == 2000,
          f"noreuse-conn10: every start accounted ({ten['ok']} + {ten['missed_starts']})")
    check(ten["connections_opened"] * 10 >= ten["ok"] and ten["connections_opened"] <= 200 + 64,
          f"noreuse-conn10: about ok / 10 connections ({ten['connections_opened']})")
    check(m["noreuse-conn10"]["predicted_ceiling_per_s"] > 9 * m["noreuse"]["predicted_ceiling_per_s"],
          "the predicted ceiling is about 10 x the short one")


def refusals():
    p = subprocess.run([PORTEX, "run", "--requests-per-conn", "10", "http://127.0.0.1:9/"],
                       capture_output=True, text=True)
    check(p.returncode == 2 and "needs -k" in p.stderr, f"needs -k: exit 2 ({p.stderr.strip()})")
    p = subprocess.run([PORTEX, "run", "-k", "--requests-per-conn", "0", "http://127.0.0.1:9/"],
                       capture_output=True, text=True)
    check(p.returncode == 2, f"N = 0 is refused ({p.stderr.strip()})")


if __name__ == "__main__":
    isolate()
    refusals()
    exactly_n_per_connection()
    many_slots_at_most_one_partial_connection_each()
    close_policies_after_n()
    compare_conn10_mode()
    lab_noreuse_conn10()
    finish()
