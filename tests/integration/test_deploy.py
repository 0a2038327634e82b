# SPDX-License-Identifier: MIT
"""deploy/kubernetes/portex-job.yaml: the Indexed Job fields the README recipe relies on,
the headless Service and metrics port that deploy/prometheus/prometheus.yml scrapes, and the
container command run here the way the kubelet would (with $(VAR) expanded)."""
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
PROMETHEUS = os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "portex-dashboard.json")
# What portex exposes, recorded (tests/unit/report/test_golden.c).
EXPOSITION = os.path.join(ROOT, "tests", "golden", "metrics.om")


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
    check("--metrics $(METRICS_ADDR)" in cmd and "--metrics-linger $(METRICS_LINGER)" in cmd,
          "live metrics on METRICS_ADDR, kept for a scrape METRICS_LINGER long")
    return c, env


def metrics_fields(job, service, prom):
    """The pods serve metrics on a port named metrics; the headless Service has one DNS
    record per pod; Prometheus's DNS discovery names that Service on that port."""
    pod = job["spec"]["template"]["spec"]
    c = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    port = ports.get("metrics")
    env = env_of(c)
    check(port is not None and env["METRICS_ADDR"]["value"] == f"0.0.0.0:{port}",
          f"the container port named metrics is where --metrics listens ({ports}, "
          f"{env['METRICS_ADDR']['value']})")
    spec = service["spec"]
    check(service["kind"] == "Service" and spec["clusterIP"] == "None"
          and spec["selector"] == job["spec"]["template"]["metadata"]["labels"],
          "a headless Service selects the Job's pods")
    check(pod.get("subdomain") == service["metadata"]["name"],
          "the pods' subdomain is the Service (a DNS record per pod)")
    check([(p["name"], p["port"]) for p in spec["ports"]] == [("metrics", port)],
          "the Service's port is the metrics port")
    job_k8s = [j for j in prom["scrape_configs"] if j["job_name"] == "portex-kubernetes"]
    dns = job_k8s[0]["dns_sd_configs"][0] if job_k8s else {}
    check(dns.get("names") == [f"{service['metadata']['name']}.default.svc.cluster.local"]
          and dns.get("type") == "A" and dns.get("port") == port,
          f"prometheus.yml discovers the pods through the Service's DNS name ({dns})")


def dashboard():
    """The Grafana dashboard asks only for metrics portex exposes, has the panels the README
    names, and a row per shard (test_prometheus.py runs its queries on a real Prometheus)."""
    with open(DASHBOARD) as f:
        d = json.load(f)
    with open(EXPOSITION) as f:
        exposed = set(re.findall(r"^(portex_\w+?)(?:\{| )", f.read(), re.M))
    exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
    used = {m for e in exprs for m in re.findall(r"\bportex_\w+", e)}
    check(used and used <= exposed,
          f"the dashboard's metrics are all exposed (unknown: {sorted(used - exposed)})")
    titles = [p["title"] for p in d["panels"] if p["type"] == "timeseries"]
    for want in ("Requests/s and EADDRNOTAVAIL/s", "TIME_WAIT against usable ports",
                 "ok/s against the predicted ceiling", "Latency quantiles (total)"):
        check(titles.count(want) == 2, f"panel {want!r} for all shards and per shard")
    check(any("histogram_quantile(0.99, sum by (le, mode) (rate(portex_latency_seconds_bucket"
              in e for e in exprs), "latency quantiles through histogram_quantile")
    rows = [p for p in d["panels"] if p["type"] == "row"]
    check([r.get("repeat") for r in rows] == [None, "shard"], "a row repeated for each shard")
    names = [v["name"] for v in d["templating"]["list"]]
    check(names == ["datasource", "mode", "shard"], f"variables datasource, mode, shard ({names})")


def expand(text, values):
    """The kubelet's $(VAR) expansion of command and args."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: values.get(m.group(1), m.group(0)),
                  text)


def run_like_kubelet(c, env):
    srv = Serve()
    try:
        values = {k: e.get("value", "") for k, e in env.items()}
        values.update(JOB_COMPLETION_INDEX="1", START_AT=f"{time.time() + 1:.3f}", URL=srv.url,
                      RATE="200", DURATION="1s", METRICS_ADDR="127.0.0.1:0", METRICS_LINGER="0")
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
        docs = {d["kind"]: d for d in yaml.safe_load_all(f)}
    with open(PROMETHEUS) as f:
        prom = yaml.safe_load(f)
    job = docs["Job"]
    dashboard()
    c, env = fields(job)
    metrics_fields(job, docs.get("Service", {"kind": None, "spec": {}, "metadata": {}}), prom)
    run_like_kubelet(c, env)
    finish()


if __name__ == "__main__":
    main()
