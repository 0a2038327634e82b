#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the seed corpus in tests/fuzz/corpus/<target>/ (run once; the files are committed).
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# fuzz_http_response: byte 0 = HEAD flags (bit i: response i answers a HEAD),
# byte 1 = chunking seed, then the bytes of the connection.
HTTP = {
    "200_length": (0, b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!"),
    "200_chunked": (0, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"5\r\nHello\r\n7;ext=1\r\n, World\r\n0\r\nX-Trailer: t\r\n\r\n"),
    "204_length": (0, b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
                      b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    "304_length": (0, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 120\r\nETag: \"x\"\r\n\r\n"
                      b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    "304_chunked": (0, b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"),
    "100_then_200": (0, b"HTTP/1.1 100 Continue\r\n\r\n"
                        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
    "103_then_200": (0, b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
    "101_upgrade": (0, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\n\r\n\x81\x05hello"),
    "head_length": (1, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                       b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    "head_chunked": (3, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n"),
    "http10_eof": (0, b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until the peer closes"),
    "pipelined_close": (0, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
                           b"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n"
                           b"Content-Length: 0\r\n\r\n"),
    "bad_status": (0, b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"),
    # Once taken as status 2 (http-parser reads any number of digits up to 999).
    "short_status": (0, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2\r\nContent-Length: 0\r\n\r\n"),
}

URL = [
    b"http://127.0.0.1/", b"http://127.0.0.1:8080/path?q=1&r=2", b"http://[::1]:8080/",
    b"http://[fe80::1]/x", b"http://example.com", b"http://localhost:65535/a/b?c=d#frag",
    b"HTTP://Host_name.example:80?x", b"http://h:0/", b"127.0.0.1:0", b"[::1]:443",
    b"::ffff:1.2.3.4", b"http://[::1", b"https://x/",
    b"unix:/tmp/px.sock:/a?b#c", b"unix:rel.sock",
]

VALUES = [
    b"500ms", b"10s", b"2m", b"1h", b"1.5", b"2000", b"1.5k", b"3M", b"1024-65535",
    b"X-Test: v", b"Host:h", b"1e400",
    # 16 bytes of bounds for px_parse_u64 (min 1, max 1000), then the number.
    (1).to_bytes(8, "big") + (1000).to_bytes(8, "big") + b"42",
]

# fuzz_cli: byte 0 = command (0 run, 1 compare, 2 serve, 3 lab, 4 doctor), then
# the arguments split by NUL (or newline).
CLI = {
    "run_basic": (0, [b"-c", b"10", b"http://127.0.0.1:1/"]),
    "run_keepalive": (0, [b"-k", b"-n", b"100", b"-H", b"X-A: 1", b"--body", b"x",
                          b"http://[::1]:8080/p"]),
    "run_open": (0, [b"-r", b"2k", b"-d", b"3s", b"--close", b"rst", b"--source",
                     b"127.0.0.2-127.0.0.5", b"--port-range", b"20000-30000", b"--json", b"-",
                     b"http://127.0.0.1:8080/"]),
    "run_body_file": (0, [b"--body", b"@body", b"-m", b"POST", b"--timeout", b"500ms",
                          b"--connect-timeout=1s", b"--interval", b"200ms", b"-q", b"http://h/"]),
    "run_sources": (0, [b"--source", b"127.0.0.2,::1", b"-t", b"2", b"--csv", b"o.csv",
                        b"--svg", b"o.svg", b"http://127.0.0.1/"]),
    "run_help": (0, [b"--help"]),
    "run_unix_hlog": (0, [b"--unix", b"/tmp/px.sock", b"--hlog", b"-", b"-n", b"10",
                          b"http://h/x"]),
    # A range that ends at the top of the address space once wrapped past cfg->sources.
    "run_source_top": (0, [b"--source", b"255.255.255.250-255.255.255.255", b"http://h/"]),
    "compare_modes": (1, [b"--modes", b"keepalive,short", b"--allow-sysctl", b"--no-drain",
                          b"-c", b"8", b"-d", b"1s", b"http://127.0.0.1:8080/"]),
    "compare_n": (1, [b"-n", b"1000", b"http://127.0.0.1/"]),
    "compare_control": (1, [b"--control", b"unix:/tmp/px.sock", b"--hlog", b"c.hlog",
                            b"unix:/tmp/px.sock:/"]),
    "serve_listen": (2, [b"--listen", b"127.0.0.1:0", b"-t", b"2", b"--body-bytes", b"100"]),
    "serve_v6": (2, [b"--listen=[::1]:8080"]),
    "serve_unix": (2, [b"--listen", b"unix:/tmp/px.sock", b"--listen", b"127.0.0.1:0"]),
    "lab_all": (3, [b"--ports", b"1000", b"-r", b"2000", b"-d", b"2s", b"-c", b"64", b"--modes",
                    b"all", b"--reuse-delay", b"100", b"--json", b"x", b"-q"]),
    "lab_modes": (3, [b"--modes", b"noreuse,reuse", b"--svg", b"a.svg", b"--csv", b"a.csv"]),
    "doctor_url": (4, [b"-c", b"100", b"--connect-timeout", b"2s", b"--json", b"-",
                       b"http://127.0.0.1:8080/"]),
    "doctor_none": (4, []),
}


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for name, (heads, body) in HTTP.items():
        write("fuzz_http_response", name, bytes([heads, 0x5a]) + body)
    for i, u in enumerate(URL):
        write("fuzz_url", "url%02d" % i, u)
    for i, v in enumerate(VALUES):
        write("fuzz_values", "value%02d" % i, v)
    for name, (cmd, args) in CLI.items():
        sep = b"\n" if name == "run_sources" else b"\0"
        write("fuzz_cli", name, bytes([cmd]) + sep.join(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
