# SPDX-License-Identifier: MIT
"""deploy/kubernetes/portex-job.yaml: the Indexed Job fields the README recipe relies on,
and its container command run here the way the kubelet would (with $(VAR) expanded)."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from pxtest import PORTEX, Serve, check, finish, skip  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MANIFEST = os.path.join(ROOT, "deploy", "kubernetes", "portex-job.yaml")


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def fields(job):
    spec = job["spec"]
    pod = spec["template"]["spec"]
    c = pod["containers"][0]
    env = env_of(c)
    n = int(env["SHARDS"]["value"])
    check(job["apiVersion"] == "batch/v1" and job["kind"] == "Job", "a batch/v1 Job")
    check(spec["completionMode"] == "Indexed", "completionMode: Indexed")
    check(spec["completions"] == spec["parallelism"] == n,
          f"completions = parallelism = SHARDS ({spec['completions']}, {spec['parallelism']}, {n})")
    check(pod["restartPolicy"] == "Never" and spec["backoffLimit"] == 0,
          "no restarts: a rerun shard would miss START_AT")
    ref = env["JOB_COMPLETION_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"]
    check(ref == "metadata.annotations['batch.kubernetes.io/job-completion-index']",
          "JOB_COMPLETION_INDEX from the completion-index annotation")
    cmd = " ".join(c["command"] + c["args"])
    check("--shard $(JOB_COMPLETION_INDEX)/$(SHARDS)" in cmd, "--shard $(JOB_COMPLETION_INDEX)/N")
    check("--start-at $(START_AT)" in cmd and env["START_AT"]["value"] == "START_AT_VALUE",
          "--start-at passed in (START_AT_VALUE replaced at launch)")
    check("--json -" in cmd and "2>" in cmd, "result on stdout, text elsewhere: kubectl logs collects it")
    return c, env


def expand(text, values):
    """The kubelet's $(VAR) expansion of command and args."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: values.get(m.group(1), m.group(0)),
                  text)


def run_like_kubelet(c, env):
    srv = Serve()
    try:
        values = {k: e.get("value", "") for k, e in env.items()}
        values.update(JOB_COMPLETION_INDEX="1", START_AT=f"{time.time() + 1:.3f}", URL=srv.url,
                      RATE="200", DURATION="1s")
        args = [expand(a, values) for a in c["args"]]
        path = os.path.dirname(os.path.abspath(PORTEX)) + ":" + os.environ.get("PATH", "")
        p = subprocess.run(c["command"] + args, capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PATH": path})
    finally:
        counts = srv.stop()
    check(p.returncode == 0, f"the container command exits 0 ({p.returncode}: {p.stderr[-200:]})")
    doc = json.loads(p.stdout)
    check(doc["result"]["shard"] == 1 and doc["result"]["shards"] == int(values["SHARDS"]),
          "stdout is shard 1's result document, nothing else")
    check(doc["summary"]["ok"] == counts["accepted"] == 50,
          f"shard 1 of 4 at 200/s for 1 s: 50 ok, all accepted ({doc['summary']['ok']}, "
          f"{counts['accepted']})")


def main():
    try:
        import yaml
    except ImportError:
        skip("python3-yaml is not installed (scripts/setup.sh installs it)")
    with open(MANIFEST) as f:
        job = yaml.safe_load(f)
    c, env = fields(job)
    run_like_kubelet(c, env)
    finish()


if __name__ == "__main__":
    main()
