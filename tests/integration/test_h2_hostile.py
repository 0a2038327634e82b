# SPDX-License-Identifier: MIT
"""HTTP/2 servers that misbehave, on 127.0.0.1: frames written here byte by byte (the point is
to break the rules nghttp2 keeps), against portex run --http2. Every run must end (no hang, no
crash), count each failure by its cause, and keep requests = ok + failed."""
import socket
import struct
import threading
import time

from pxtest import RawServer, check, finish, run

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 7, 8, 9
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
STATUS_200 = b"\x88"  # HPACK: the static table's ":status: 200"


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + \
        payload


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def read_exact(c, n):
    buf = b""
    while len(buf) < n:
        chunk = c.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def frames(c):
    """The client's frames after its preface: (type, flags, stream, payload)."""
    if read_exact(c, len(PREFACE)) != PREFACE:
        raise ConnectionError("no preface")
    while True:
        hdr = read_exact(c, 9)
        length = int.from_bytes(hdr[:3], "big")
        sid = struct.unpack(">I", hdr[5:9])[0] & 0x7FFFFFFF
        yield hdr[3], hdr[4], sid, read_exact(c, length) if length else b""


def requests(c, on_settings=True):
    """Stream ids of whole requests (END_STREAM seen); the client's SETTINGS ACKed."""
    for ftype, flags, sid, _ in frames(c):
        if ftype == SETTINGS and not flags & ACK and on_settings:
            c.sendall(frame(SETTINGS, ACK, 0))
        elif ftype in (HEADERS, DATA) and flags & END_STREAM:
            yield sid


def answer(sid):
    return frame(HEADERS, END_HEADERS, sid, STATUS_200) + frame(DATA, END_STREAM, sid, b"hi")


def serving(body):
    """A RawServer handler from body(conn): closes quietly whatever the client did."""
    def handler(c):
        try:
            body(c)
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass
    return handler


def counted(doc, n, what):
    s = doc["summary"]
    check(s["requests"] == n and s["ok"] + s["failed"] == n,
          f"{what}: requests = ok + failed = {n} ({s['requests']}, {s['ok']}, {s['failed']})")
    return s


def h2run(url, *args, timeout=60):
    t0 = time.monotonic()
    rc, doc, err = run("--http2", "-t", "1", "-q", *args, url, timeout=timeout)
    return rc, doc, err, time.monotonic() - t0


def goaway_mid_run():
    # Each connection: 5 requests answered, then GOAWAY(last = the 5th, NO_ERROR): streams
    # above it were not processed (refused) and go once more on the next connection.
    def body(c):
        c.sendall(settings((3, 100)))
        n = 0
        for sid in requests(c):
            n += 1
            c.sendall(answer(sid))
            if n == 5:
                c.sendall(frame(GOAWAY, 0, 0, struct.pack(">II", sid, 0)))
                time.sleep(0.2)
                return
    srv = RawServer(serving(body))
    rc, doc, err, _ = h2run(srv.url, "-k", "-c", "2", "--streams", "4", "-n", "200")
    s = counted(doc, 200, "GOAWAY mid-run")
    check(s["ok"] == 200 and s["failed"] == 0,
          f"GOAWAY mid-run: refused streams resent, 200 ok ({s['ok']}, {s['errors']})")
    check(s["connections_opened"] >= 40, f"GOAWAY: >= 40 connections ({s['connections_opened']})")
    rc, doc, err, _ = h2run(srv.url, "-k", "-c", "2", "--streams", "4", "-n", "200", "--no-retry")
    s = counted(doc, 200, "GOAWAY mid-run --no-retry")
    check(s["failed"] == s["errors"].get("refused_stream", 0),
          f"--no-retry: every failure is refused_stream ({s['errors']})")
    srv.stop()

    # GOAWAY naming every stream as processed, then the connection closes unanswered.
    def rude(c):
        c.sendall(settings((3, 100)))
        for sid in requests(c):
            c.sendall(frame(GOAWAY, 0, 0, struct.pack(">II", sid, 0)))
            time.sleep(0.05)
            return
    srv = RawServer(serving(rude))
    rc, doc, err, _ = h2run(srv.url, "-k", "-c", "1", "--streams", "1", "-n", "20")
    s = counted(doc, 20, "GOAWAY then close, stream unanswered")
    check(s["failed"] == 20 and s["errors"].get("goaway") == 20,
          f"unanswered under GOAWAY: 20 failed as goaway ({s['errors']})")
    srv.stop()


def rst_storm():
    def body(c):
        c.sendall(settings((3, 100)))
        for sid in requests(c):
            c.sendall(frame(RST_STREAM, 0, sid, struct.pack(">I", 2)))  # INTERNAL_ERROR
    srv = RawServer(serving(body))
    rc, doc, err, _ = h2run(srv.url, "-k", "-c", "2", "--streams", "10", "-n", "3000")
    s = counted(doc, 3000, "RST_STREAM storm")
    check(s["failed"] == 3000 and s["errors"].get("rst_stream:INTERNAL_ERROR") == 3000,
          f"RST_STREAM storm: 3000 failed as rst_stream:INTERNAL_ERROR ({s['errors']})")
    check(s["connections_opened"] == 2, f"the storm needs no reconnect ({s['connections_opened']})")
    srv.stop()

    def refuse(c):  # every other stream refused: not processed, so resent
        c.sendall(settings((3, 100)))
        for sid in requests(c):
            if sid % 4 == 1:
                c.sendall(frame(RST_STREAM, 0, sid, struct.pack(">I", 7)))
            else:
                c.sendall(answer(sid))
    srv = RawServer(serving(refuse))
    rc, doc, err, _ = h2run(srv.url, "-k", "-c", "2", "--streams", "5", "-n", "1000")
    s = counted(doc, 1000, "REFUSED_STREAM on every other stream")
    check(s["ok"] + s["errors"].get("refused_stream", 0) == 1000 and s["retries"] > 0,
          f"refused streams resent once, counted in retries ({s['retries']}, {s['errors']})")
    srv.stop()


def no_settings():
    def body(c):  # answers, but never sends SETTINGS
        for sid in requests(c, on_settings=False):
            c.sendall(answer(sid))
    srv = RawServer(serving(body))
    rc, doc, err, secs = h2run(srv.url, "-c", "2", "-n", "20", "--timeout", "5s")
    s = counted(doc, 20, "no SETTINGS")
    check(s["failed"] == 20 and s["errors"].get("protocol_error") == 20,
          f"no SETTINGS: 20 failed as protocol_error ({s['errors']})")
    check(secs < 4, f"no SETTINGS: no wait for --timeout ({secs:.1f} s)")
    srv.stop()


def hpack_int(value, prefix_bits):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([value])
    out, value = [limit], value - limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    return bytes(out + [value])


def huge_headers():
    # 100 KB of response header: HEADERS then CONTINUATIONs, 16 KB each.
    block = STATUS_200
    for i in range(25):
        name, value = f"x-big-{i}".encode(), b"v" * 4000
        block += b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value

    def body(c):
        c.sendall(settings((3, 100)))
        for sid in requests(c):
            chunks = [block[i:i + 16384] for i in range(0, len(block), 16384)]
            out = frame(HEADERS, 0, sid, chunks[0])
            for k, chunk in enumerate(chunks[1:], 1):
                out += frame(CONTINUATION, END_HEADERS if k == len(chunks) - 1 else 0, sid, chunk)
            c.sendall(out + frame(DATA, END_STREAM, sid, b"hi"))
    srv = RawServer(serving(body))
    rc, doc, err, secs = h2run(srv.url, "-k", "-c", "1", "--streams", "2", "-n", "10",
                               "--timeout", "5s")
    s = counted(doc, 10, "huge HEADERS")
    check(s["failed"] == 10 and s["errors"].get("protocol_error") == 10,
          f"100 KB of headers: 10 failed as protocol_error ({s['errors']})")
    check(secs < 4, f"huge HEADERS: no wait for --timeout ({secs:.1f} s)")
    srv.stop()


def window_zero():
    # SETTINGS_INITIAL_WINDOW_SIZE = 0, never a WINDOW_UPDATE: a POST body cannot leave.
    def body(c):
        c.sendall(settings((4, 0)))
        for sid in requests(c):
            c.sendall(answer(sid))
    srv = RawServer(serving(body))
    rc, doc, err, secs = h2run(srv.url, "-k", "-c", "1", "--streams", "2", "-n", "3", "-m", "POST",
                               "--body", "x" * 1000, "--timeout", "1s")
    s = counted(doc, 3, "window 0")
    # The first stream leaves with its body on the default window before the SETTINGS come.
    check(s["ok"] == 1 and s["errors"].get("flow_control_stall") == 2,
          f"window 0: 1 ok (sent before SETTINGS), 2 flow_control_stall ({s['ok']}, "
          f"{s['errors']})")
    check(secs < 10, f"window 0: ends after --timeout ({secs:.1f} s)")
    srv.stop()


def streams_without_max_concurrent():
    # SETTINGS without MAX_CONCURRENT_STREAMS (no limit, RFC 9113): --streams 4 must put 4
    # streams on the wire at once; this server answers only when it holds 4.
    def body(c):
        c.sendall(settings())
        held = []
        for sid in requests(c):
            held.append(sid)
            if len(held) == 4:
                c.sendall(b"".join(answer(x) for x in held))
                held = []
    srv = RawServer(serving(body))
    rc, doc, err, secs = h2run(srv.url, "-k", "-c", "1", "--streams", "4", "-n", "40",
                               "--timeout", "3s")
    s = counted(doc, 40, "no MAX_CONCURRENT_STREAMS")
    check(s["ok"] == 40, f"4 streams at once without a server limit: 40 ok ({s['errors']})")
    srv.stop()


def silent():
    def body(c):
        c.sendall(settings((3, 100)))
        for _ in requests(c):
            pass
    srv = RawServer(serving(body))
    rc, doc, err, secs = h2run(srv.url, "-k", "-c", "1", "--streams", "3", "-n", "3",
                               "--timeout", "1s")
    s = counted(doc, 3, "silent server")
    check(s["errors"].get("request_timeout") == 3, f"silent: 3 request_timeout ({s['errors']})")
    srv.stop()


goaway_mid_run()
rst_storm()
no_settings()
huge_headers()
window_zero()
streams_without_max_concurrent()
silent()
finish()
