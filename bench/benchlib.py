# SPDX-License-Identifier: MIT
"""What the bench scripts share: a free loopback port, an nginx with a config of its own in a
temporary folder, and writing one script's section of bench/RESULTS.md without touching the
others'."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_nginx(workers=2, http_lines="access_log off;", listen_opts="", prepare=None):
    """nginx on 127.0.0.1 answering "hello, world"; "{dir}" in http_lines names its temporary
    folder, and prepare(dir) runs before it starts (to write certificates there). Returns
    (port, dir, stop): stop() ends nginx and waits for it; the caller removes dir (remove())
    once it has read what it wants from it."""
    d = tempfile.mkdtemp(prefix="portex-bench-nginx-")
    if prepare:
        prepare(d)
    http_lines = http_lines.replace("{dir}", d)
    port = free_port()
    conf = f"""
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 8192; }}
http {{
  {http_lines}
  keepalive_requests 1000000;
  client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
  uwsgi_temp_path {d}; scgi_temp_path {d};
  server {{ listen 127.0.0.1:{port} {listen_opts} reuseport backlog=4096;
           location / {{ return 200 "hello, world\\n"; }} }}
}}
"""
    open(f"{d}/nginx.conf", "w").write(conf)
    subprocess.run(["nginx", "-c", f"{d}/nginx.conf", "-p", d], check=True)
    time.sleep(0.3)
    pid = int(open(f"{d}/nginx.pid").read())

    def stop():
        os.kill(pid, signal.SIGQUIT)
        for _ in range(50):
            if not os.path.exists(f"{d}/nginx.pid"):
                break
            time.sleep(0.1)
    return port, d, stop


def write_section(path, name, text):
    """Puts text between '<!-- name: begin -->' and '<!-- name: end -->' in path, replacing
    what was there, or appends it: every script owns its section of RESULTS.md."""
    begin, end = f"<!-- {name}: begin -->", f"<!-- {name}: end -->"
    old = open(path).read() if os.path.exists(path) else ""
    block = f"{begin}\n{text.rstrip()}\n{end}\n"
    if begin in old and end in old:
        new = old[:old.index(begin)] + block + old[old.index(end) + len(end) + 1:]
    else:
        new = old + ("\n" if old and not old.endswith("\n\n") else "") + block
    open(path, "w").write(new)


def remove(d):
    shutil.rmtree(d, True)


def run_timed(cmd, limit_s):
    """Runs cmd; returns (stdout, CPU seconds user+sys of it and its children). A peer that
    never ends (h2load with Connection: close can spin) is killed after limit_s and reported."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    timer = threading.Timer(limit_s, p.kill)
    timer.start()
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    timer.cancel()
    if os.WIFSIGNALED(status):
        raise RuntimeError(f"{cmd[0]} did not finish within {limit_s} s")
    return out, ru.ru_utime + ru.ru_stime


def start_portex_serve(portex, threads):
    """portex serve on 127.0.0.1, port 0; returns (port, stop)."""
    p = subprocess.Popen([portex, "serve", "--listen", "127.0.0.1:0", "-t", str(threads)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = int(re.search(r":(\d+) ", p.stderr.readline()).group(1))
    return port, lambda: (p.send_signal(signal.SIGTERM), p.wait())
