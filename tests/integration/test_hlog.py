# SPDX-License-Identifier: MIT
"""--hlog: the HdrHistogram interval log, decoded by hdr-histogram-js (npm), equals portex's JSON."""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import zlib

from pxtest import PORTEX, Serve, check, finish, run, skip_part

# HdrHistogram's own Java library and log processor (Debian: libhdrhistogram-java).
HDR_JAR = "/usr/share/java/hdrhistogram.jar"
HERE = os.path.dirname(os.path.abspath(__file__))


def node_modules():
    """hdr-histogram-js, installed by scripts/setup.sh under the build tree; None (a visible
    skip, a failure under PORTEX_NO_SKIP) when it is not there."""
    mods = os.path.join(os.path.dirname(PORTEX), "hlog-node", "node_modules")
    if shutil.which("node") is None:
        skip_part("decoding with hdr-histogram-js", "node is not installed (scripts/setup.sh)")
        return None
    if not os.path.exists(os.path.join(mods, "hdr-histogram-js", "package.json")):
        skip_part("decoding with hdr-histogram-js",
                  "scripts/setup.sh could not install it from npm (see build/setup-npm.log)")
        return None
    return mods


def px_index(v):
    """portex's (= HdrHistogram's) bucket index of a value in us."""
    if v < 256:
        return v
    m = v.bit_length() - 1
    return (m - 6) * 128 + (v >> (m - 7)) - 128


def bucket_width(v):
    return 1 if v < 256 else 1 << (v.bit_length() - 8)


def zigzag_counts(raw):
    """Our own reading of the V2 payload (the spec, not portex's code): {index: count}."""
    payload = int.from_bytes(raw[4:8], "big")
    pos, idx, counts = 40, 0, {}
    while pos < 40 + payload:
        u, shift = 0, 0
        while True:
            b = raw[pos]
            pos += 1
            if shift == 56:
                u |= b << 56
                break
            u |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        v = (u >> 1) ^ -(u & 1)
        if v < 0:
            idx += -v
        else:
            if v:
                counts[idx] = v
            idx += 1
    return counts


def spec_decode(b64):
    packed = base64.b64decode(b64)
    check(int.from_bytes(packed[:4], "big") == 0x1C849314, "compressed V2 cookie")
    return zigzag_counts(zlib.decompress(packed[8:8 + int.from_bytes(packed[4:8], "big")]))


def close_enough(got, px, what, who="hdr-histogram-js"):
    tol = 2 * bucket_width(px) + 1
    check(abs(got - px) <= tol, f"{what}: {who} {got} vs portex {px} (within {tol} us)")


def log_matches_json(mods):
    srv = Serve(threads=2)
    tmp = tempfile.mkdtemp(prefix="portex-hlog-")
    path = os.path.join(tmp, "run.hlog")
    rc, doc, err = run("-n", "4000", "-c", "16", "-t", "2", "--interval", "200ms", "-q",
                       "--hlog", path, srv.url)
    srv.stop()
    check(rc == 0, "run --hlog exits 0" + ("" if rc == 0 else f" ({err.strip()[-300:]})"))
    with open(path) as f:
        text = f.read()
    head = text.splitlines()[:5]
    check(any(h.startswith("#[StartTime: ") for h in head), "#[StartTime: header")
    check(any(h.startswith("#[BaseTime: ") for h in head), "#[BaseTime: header")
    check('"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'
          in head, "column legend")
    data = [ln for ln in text.splitlines() if ln and not ln.startswith(("#", '"'))]
    series = doc["series"]
    for tag in ("", "Tag=connect,", "Tag=ttfb,"):
        n = sum(1 for ln in data if (ln.startswith(tag) if tag else not ln.startswith("Tag=")))
        check(n == len(series), f"{tag or 'untagged'} lines: one per series row ({n})")

    java_reads_the_log(path, doc)
    if mods is not None:
        js_reads_the_log(mods, path, data, doc)
    shutil.rmtree(tmp)


def js_reads_the_log(mods, path, data, doc):
    """hdr-histogram-js decodes every line to portex's own counts and percentiles."""
    p = subprocess.run(["node", os.path.join(HERE, "hlog_decode.js"), mods, path],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"hdr-histogram-js decodes the log ({p.stderr.strip()[-300:]})")
    js = json.loads(p.stdout)
    check(len(js["lines"]) == len(data), f"hdr-histogram-js reads every line ({len(js['lines'])})")
    for i, (line, ours) in enumerate(zip(js["lines"], data)):
        counts = {int(k): v for k, v in line["counts"].items()}
        check(counts == spec_decode(ours.split(",")[-1]),
              f"line {i}: hdr-histogram-js counts equal the spec decoding ({line['total']})")
        check(line["counts_length"] == 2560, f"line {i}: 2560 counts, as portex's histogram")
        bad = [(k, v) for k, v in line["values"].items() if px_index(v) != int(k)]
        check(not bad, f"line {i}: HdrHistogram's index of each value is portex's ({bad[:3]})")
    for tag, key in (("", "total"), ("connect", "connect"), ("ttfb", "ttfb")):
        want = doc["summary"]["latency_us"][key]
        s = js["summary"][tag]
        check(s["count"] == want["count"] == 4000,
              f"{key}: decoded count {s['count']} = JSON {want['count']} = 4000")
        for q in ("p50", "p90", "p99"):
            close_enough(s[q], want[q], f"{key} {q}")
        check(px_index(s["max"]) == px_index(want["max"]) and s["max"] >= want["max"],
              f"{key} max: hdr-histogram-js {s['max']} is the top of portex's bucket of "
              f"{want['max']}")
    t0 = js["lines"][0]["start_ms"]
    check(all(b["start_ms"] >= a["start_ms"] for a, b in zip(js["lines"], js["lines"][1:]))
          and abs(js["lines"][-1]["end_ms"] - t0 - doc["summary"]["duration_s"] * 1000) < 1500,
          "interval timestamps increase and span the run")


def compare_tags_each_mode(mods):
    if mods is None:
        return
    srv = Serve(threads=2)
    tmp = tempfile.mkdtemp(prefix="portex-hlog-")
    path = os.path.join(tmp, "cmp.hlog")
    p = subprocess.run([PORTEX, "compare", "-n", "1000", "-c", "8", "-t", "2", "-q",
                        "--no-drain", "--modes", "short,keepalive", "--interval", "200ms",
                        "--hlog", path, "--json", "-", srv.url],
                       capture_output=True, text=True, timeout=120)
    srv.stop()
    check(p.returncode == 0, "compare --hlog exits 0" + ("" if p.returncode == 0 else
                                                          f" ({p.stderr[-300:]})"))
    modes = {m["name"]: m["summary"] for m in json.loads(p.stdout)["modes"]}
    d = subprocess.run(["node", os.path.join(HERE, "hlog_decode.js"), mods, path],
                       capture_output=True, text=True, timeout=60)
    check(d.returncode == 0, f"hdr-histogram-js decodes compare's log ({d.stderr.strip()[-300:]})")
    js = json.loads(d.stdout)
    s = js["summary"]
    check(sorted(s) == sorted(["short", "short.connect", "short.ttfb", "keepalive",
                               "keepalive.connect", "keepalive.ttfb"]),
          f"one tag per mode and latency ({sorted(s)})")
    for name in ("short", "keepalive"):
        check(s[name]["count"] == modes[name]["latency_us"]["total"]["count"] == 1000,
              f"{name}: decoded count {s[name]['count']} = JSON = 1000")
        check(s[name + ".connect"]["count"] == modes[name]["connections_opened"],
              f"{name}.connect: {s[name + '.connect']['count']} = connections opened "
              f"{modes[name]['connections_opened']}")
    first_keep = min(ln["start_ms"] for ln in js["lines"] if ln["tag"] == "keepalive")
    last_short = max(ln["start_ms"] for ln in js["lines"] if ln["tag"] == "short")
    check(first_keep > last_short, "the second mode's lines are stamped after the first's")
    shutil.rmtree(tmp)


def java_processor(path, tag=None):
    """HdrHistogram's HistogramLogProcessor on the log: ({percentile: value}, summary)."""
    if shutil.which("java") is None or not os.path.exists(HDR_JAR):
        check(False, f"java and {HDR_JAR} are installed (scripts/setup.sh: "
                     "default-jre-headless, libhdrhistogram-java)")
        return {}, {}
    args = ["java", "-cp", HDR_JAR, "org.HdrHistogram.HistogramLogProcessor", "-i", path,
            "-outputValueUnitRatio", "1"]  # the log holds microseconds: print them as they are
    p = subprocess.run(args + (["-tag", tag] if tag else []), capture_output=True, text=True,
                       timeout=120)
    check(p.returncode == 0, f"HistogramLogProcessor{' -tag ' + tag if tag else ''} reads the "
                             f"log ({p.stderr.strip()[-300:]})")
    pcts, summary = {}, {}
    for ln in p.stdout.splitlines():
        f = ln.split()
        if len(f) >= 3 and not ln.startswith("#") and f[1].replace(".", "").isdigit():
            pcts.setdefault(float(f[1]), float(f[0]))
        for m in re.finditer(r"(\w[\w ]*?)\s*=\s*([\d.]+)", ln if ln.startswith("#[") else ""):
            summary[m.group(1).strip()] = float(m.group(2))
    return pcts, summary


def java_reads_the_log(path, doc):
    """The reference implementation reads portex's log: counts, layout, p50, p90, max."""
    for tag, key in ((None, "total"), ("connect", "connect"), ("ttfb", "ttfb")):
        want = doc["summary"]["latency_us"][key]
        pcts, summary = java_processor(path, tag)
        if not summary:
            return
        check(summary.get("Total count") == want["count"],
              f"java {key}: total count {summary.get('Total count')} = JSON {want['count']}")
        check(summary.get("Buckets") == 19 and summary.get("SubBuckets") == 256,
              f"java {key}: 19 buckets of 256 sub-buckets, portex's layout ({summary})")
        for q, name in ((0.5, "p50"), (0.9, "p90")):
            close_enough(int(pcts.get(q, -1)), want[name], f"java {key} {name}",
                         "HistogramLogProcessor")
        jmax = int(summary.get("Max", -1))
        check(px_index(jmax) == px_index(want["max"]) and jmax >= want["max"],
              f"java {key} max {jmax} is the top of portex's bucket of {want['max']}")


def bad_path_fails_before_the_load():
    srv = Serve()
    rc, _, err = run("-n", "100", "--hlog", "/nonexistent-dir/x.hlog", srv.url)
    cmp = subprocess.run([PORTEX, "compare", "-n", "100", "--modes", "short", "--hlog",
                          "/nonexistent-dir/y.hlog", srv.url], capture_output=True, text=True,
                         timeout=60)
    counts = srv.stop()
    check(cmp.returncode == 1 and "/nonexistent-dir/y.hlog" in cmp.stderr,
          f"compare --hlog to a missing directory exits 1 ({cmp.returncode}: {cmp.stderr.strip()})")
    check(rc == 1, f"--hlog to a missing directory exits 1 (got {rc})")
    check("/nonexistent-dir/x.hlog" in err, f"the message names the path ({err.strip()})")
    check(counts["accepted"] == 0, f"neither sent a request ({counts['accepted']} accepted)")


if __name__ == "__main__":
    mods = node_modules()
    log_matches_json(mods)
    compare_tags_each_mode(mods)
    bad_path_fails_before_the_load()
    finish()
