# SPDX-License-Identifier: MIT
"""HTTP/2 against independent implementations, all on 127.0.0.1: portex run --http2 against
nginx (http2 on TLS) and nghttpd (h2c and TLS), started here as children; h2load and curl
against portex serve (h2c on the plain port, h2 by ALPN with --tls). Exact counts:
requests = ok + failed, ok as asked, connections_opened == C under -k."""
import os
import re
import shutil
import subprocess
import tempfile
import time

from pxtest import Serve, can_run, check, finish, free_port, run, spawn

WORK = tempfile.mkdtemp(prefix="portex-h2-")
os.chmod(WORK, 0o755)  # nginx's workers run as nobody under root
DOCROOT = os.path.join(WORK, "www")
os.mkdir(DOCROOT)
os.chmod(DOCROOT, 0o755)
with open(os.path.join(DOCROOT, "index.html"), "w") as f:
    f.write("x" * 100)
os.chmod(os.path.join(DOCROOT, "index.html"), 0o644)
CERT = os.path.join(WORK, "cert.pem")
KEY = os.path.join(WORK, "key.pem")


def make_cert():
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", KEY, "-out", CERT,
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-days", "1"], check=True, capture_output=True)
    os.chmod(KEY, 0o644)


def wait_port(port, proc, what):
    import socket
    for _ in range(100):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def exact(doc, n, what, conns=None):
    s = doc["summary"]
    check(s["protocol"] == "h2", f"{what}: summary.protocol h2 ({s['protocol']})")
    check(s["requests"] == n and s["ok"] == n and s["failed"] == 0,
          f"{what}: {n} requests, {n} ok, 0 failed ({s['requests']}, {s['ok']}, {s['failed']}, "
          f"{s['errors']})")
    if conns is not None:
        check(s["connections_opened"] == conns,
              f"{what}: connections_opened == {conns} ({s['connections_opened']})")


def against_nghttpd():
    port = free_port()
    p = spawn(["nghttpd", "-a", "127.0.0.1", "--no-tls", "-d", DOCROOT, str(port)],
              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_port(port, p, "nghttpd")
    url = f"http://127.0.0.1:{port}/index.html"
    rc, doc, err = run("--http2", "-k", "-c", "4", "--streams", "10", "-n", "20000", "-t", "2",
                       "-q", url)
    check(rc == 0, f"nghttpd h2c -k: exit 0 ({err.strip()[:200] if rc else 'ok'})")
    if doc:
        exact(doc, 20000, "nghttpd h2c -c 4 --streams 10", conns=4)
        check(doc["config"]["streams"] == 10, "config.streams 10")
    rc, doc, err = run("--http2", "-c", "8", "-n", "1000", "-t", "1", "-q", url)
    if doc:
        exact(doc, 1000, "nghttpd h2c short connections", conns=1000)
    rc, doc, err = run("--http2", "-k", "--requests-per-conn", "10", "--streams", "5", "-c", "4",
                       "-n", "2000", "-t", "1", "-q", url)
    if doc:
        exact(doc, 2000, "nghttpd h2c --requests-per-conn 10")
        opened = doc["summary"]["connections_opened"]
        check(200 <= opened <= 204, f"--requests-per-conn 10: 200 to 204 connections ({opened})")
    stop(p)

    port = free_port()
    p = spawn(["nghttpd", "-a", "127.0.0.1", "-d", DOCROOT, str(port), KEY, CERT],
              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_port(port, p, "nghttpd TLS")
    rc, doc, err = run("--http2", "-k", "-c", "4", "--streams", "10", "-n", "10000", "-t", "2",
                       "-q", "--insecure", f"https://127.0.0.1:{port}/index.html")
    check(rc == 0, f"nghttpd TLS -k: exit 0 ({err.strip()[:200] if rc else 'ok'})")
    if doc:
        exact(doc, 10000, "nghttpd h2 over TLS -c 4 --streams 10", conns=4)
    stop(p)


NGINX_CONF = """worker_processes 1;
daemon off;
pid {w}/nginx.pid;
error_log {w}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {w}/body;
    proxy_temp_path {w}/proxy;
    fastcgi_temp_path {w}/fastcgi;
    uwsgi_temp_path {w}/uwsgi;
    scgi_temp_path {w}/scgi;
    keepalive_requests {kareq};
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate     {cert};
        ssl_certificate_key {key};
        root {root};
        location / {{ }}
    }}
}}
"""


def nginx(kareq):
    port = free_port()
    conf = os.path.join(WORK, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(w=WORK, port=port, cert=CERT, key=KEY, root=DOCROOT,
                                  kareq=kareq))
    p = spawn(["nginx", "-c", conf, "-p", WORK + "/"], stdout=subprocess.DEVNULL,
              stderr=subprocess.PIPE, text=True)
    wait_port(port, p, "nginx")
    return p, f"https://127.0.0.1:{port}/index.html"


def against_nginx():
    p, url = nginx(1000000)
    rc, doc, err = run("--http2", "-k", "-c", "4", "--streams", "10", "-n", "10000", "-t", "2",
                       "-q", "--insecure", url)
    check(rc == 0, f"nginx http2 TLS -k: exit 0 ({err.strip()[:200] if rc else 'ok'})")
    if doc:
        exact(doc, 10000, "nginx h2 over TLS -c 4 --streams 10", conns=4)
    rc, doc, err = run("--http2", "-c", "4", "-n", "400", "-t", "1", "-q", "--insecure", url)
    if doc:
        exact(doc, 400, "nginx h2 short connections", conns=400)
        check(doc["summary"]["tls"]["full"] == 400, "nginx short: 400 full handshakes")
    stop(p)
    # keepalive_requests 100: nginx sends GOAWAY after each connection's 100th request;
    # streams sent after it are refused and resent on the next connection.
    p, url = nginx(100)
    rc, doc, err = run("--http2", "-k", "-c", "2", "--streams", "10", "-n", "3000", "-t", "1",
                       "-q", "--insecure", url)
    if doc:
        s = doc["summary"]
        check(s["ok"] == 3000 and s["failed"] == 0,
              f"nginx GOAWAY every 100 requests: 3000 ok, 0 failed ({s['ok']}, {s['errors']})")
        check(s["connections_opened"] >= 30,
              f"nginx GOAWAY: reconnected, >= 30 connections ({s['connections_opened']})")
    stop(p)


def h2load_against_serve():
    srv = Serve(threads=2)
    out = subprocess.run(["h2load", "-c", "4", "-m", "10", "-n", "20000", srv.url],
                         capture_output=True, text=True, timeout=120).stdout
    check("20000 succeeded, 0 failed" in out, "h2load h2c -n 20000 against serve: all succeeded")
    out = subprocess.run(["h2load", "--h1", "-c", "4", "-n", "1000", srv.url],
                         capture_output=True, text=True, timeout=120).stdout
    check("1000 succeeded, 0 failed" in out, "h2load --h1 on the same port: all succeeded")
    curl = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w",
                           "%{http_version} %{http_code}", srv.url], capture_output=True,
                          text=True).stdout
    check(curl == "2 200", f"curl --http2-prior-knowledge: HTTP/2 200 ({curl})")
    rc, doc, err = run("--http2", "-k", "-c", "4", "--streams", "10", "-n", "20000", "-t", "2",
                       "-q", srv.url)
    if doc:
        exact(doc, 20000, "portex run --http2 against serve", conns=4)
    counts = srv.stop()
    check(counts["requests"] == 20000 + 1000 + 1 + 20000 and counts["accepted"] == 4 + 4 + 1 + 4,
          f"serve counted every stream and connection ({counts})")

    srv = Serve(threads=1, extra=("--tls",))
    tls_url = srv.url.replace("http://", "https://")
    out = subprocess.run(["h2load", "-c", "4", "-m", "10", "-n", "10000", tls_url],
                         capture_output=True, text=True, timeout=120).stdout
    check("Application protocol: h2" in out and "10000 succeeded, 0 failed" in out,
          "h2load over TLS against serve --tls: h2 by ALPN, all succeeded")
    rc, doc, err = run("--http2", "-c", "4", "-n", "500", "-t", "1", "-q", "--insecure", tls_url)
    if doc:
        exact(doc, 500, "run --http2 short over TLS against serve --tls", conns=500)
    rc, doc, err = run("-k", "-c", "2", "-n", "500", "-t", "1", "-q", "--insecure", tls_url)
    if doc:
        check(doc["summary"]["protocol"] == "http/1.1" and doc["summary"]["ok"] == 500,
              "HTTP/1.1 by ALPN on the same TLS port: 500 ok")
    srv.stop()


def merge_h2_shards():
    import json
    from pxtest import portex
    srv = Serve(threads=1)
    files = []
    for k in (0, 1):
        path = os.path.join(WORK, f"shard{k}.json")
        rc, doc, err = run("--http2", "-k", "-c", "4", "--streams", "4", "-n", "2000", "-t", "1",
                           "--shard", f"{k}/2", "-q", srv.url)
        with open(path, "w") as f:
            json.dump(doc, f)
        files.append(path)
    plain = os.path.join(WORK, "plain.json")
    rc, doc, err = run("-k", "-c", "2", "-n", "100", "-t", "1", "--shard", "1/2", "-q", srv.url)
    with open(plain, "w") as f:
        json.dump(doc, f)
    srv.stop()
    p = portex("merge", *files, "--json", "-")
    s = json.loads(p.stdout)["summary"] if p.returncode == 0 else {}
    check(s.get("protocol") == "h2" and s.get("ok") == 2000 and s.get("failed") == 0,
          f"merge of two h2 shards: protocol h2, 2000 ok ({s.get('protocol')}, {s.get('ok')}"
          f"{'' if s else ', ' + p.stderr.strip()[:200]})")
    p = portex("merge", files[0], plain)
    check(p.returncode != 0 and "h2" in p.stderr and "http/1.1" in p.stderr,
          f"an h2 shard and an HTTP/1.1 one do not merge ({p.stderr.strip()[:200]})")
    p = portex("merge", *files)
    check("protocol h2" in p.stdout + p.stderr, "merge's text names the protocol")


def usage_errors():
    from pxtest import portex
    p = portex("run", "--streams", "4", "-n", "1", "http://127.0.0.1:9/")
    check(p.returncode == 2 and "--streams 4" in p.stderr and "--http2" in p.stderr,
          f"--streams without --http2: exit 2 naming it ({p.stderr.strip()})")
    p = portex("run", "--http2", "--streams", "4", "-n", "1", "http://127.0.0.1:9/")
    check(p.returncode == 2 and "needs -k" in p.stderr,
          f"--streams 4 without -k: exit 2 ({p.stderr.strip()})")


def no_h2_by_alpn():
    # An HTTP/1.1-only TLS server (nginx without http2): the run names the cause, no loop.
    port = free_port()
    conf = os.path.join(WORK, "nginx11.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(w=WORK, port=port, cert=CERT, key=KEY, root=DOCROOT,
                                  kareq=1000).replace(" ssl http2;", " ssl;"))
    p = spawn(["nginx", "-c", conf, "-p", WORK + "/"], stdout=subprocess.DEVNULL,
              stderr=subprocess.PIPE, text=True)
    wait_port(port, p, "nginx (http/1.1)")
    rc, doc, err = run("--http2", "-c", "2", "-n", "20", "-t", "1", "-q", "--insecure",
                       f"https://127.0.0.1:{port}/index.html")
    if doc:
        s = doc["summary"]
        check(s["failed"] == 20 and s["errors"].get("no_h2_alpn") == 20,
              f"TLS server without h2: 20 failed as no_h2_alpn ({s['errors']})")
    stop(p)


def compare_and_lab_h2_mode():
    import json
    from pxtest import portex
    srv = Serve(threads=1)
    p = portex("compare", "-q", "-c", "4", "-r", "500", "-d", "1s", "--modes", "keepalive,h2",
               "--json", "-", srv.url)
    srv.stop()
    modes = {m["name"]: m for m in json.loads(p.stdout)["modes"]} if p.returncode == 0 else {}
    h2 = modes.get("h2", {}).get("summary", {})
    check(h2.get("protocol") == "h2" and h2.get("ok") == 500 and h2.get("failed") == 0,
          f"compare --modes h2: 500 ok over h2 ({h2.get('protocol')}, {h2.get('ok')})")
    check(1 <= h2.get("connections_opened", 0) <= 4,
          f"compare h2: at most C = 4 connections ({h2.get('connections_opened')})")
    if not can_run("lab --modes h2", root=True):
        return
    p = portex("lab", "-q", "--modes", "h2", "-r", "500", "-d", "1s", "--json", "-")
    modes = {m["name"]: m for m in json.loads(p.stdout)["modes"]} if p.returncode == 0 else {}
    s = modes.get("h2", {}).get("summary", {})
    check(s.get("protocol") == "h2" and s.get("ok") == 500 and s.get("failed") == 0 and
          s.get("connections_opened", 99) <= 64,
          f"lab --modes h2: 500 ok, at most 64 connections ({s or p.stderr.strip()[:200]})")


usage_errors()
merge_h2_shards()
compare_and_lab_h2_mode()
if can_run("HTTP/2 against nghttpd, nginx, h2load", tools=("nghttpd", "nginx", "h2load", "curl",
                                                             "openssl")):
    make_cert()
    against_nghttpd()
    against_nginx()
    no_h2_by_alpn()
    h2load_against_serve()
shutil.rmtree(WORK, ignore_errors=True)
finish()
