# SPDX-License-Identifier: MIT
"""The libraries portex links: libevent as its three parts (core, extra for evhttp, pthreads),
never the all-in-one libevent-2.1.so.7, which would put a second copy of libevent's core in
the process and libevent-2.1-7 into the .deb's Depends (a link order that silently does so:
see CMakeLists.txt)."""
import re
import shutil
import subprocess

from pxtest import PORTEX, check, finish, skip


def needed():
    p = subprocess.run(["readelf", "-d", PORTEX], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, f"readelf -d portex works ({p.stderr.strip()[:200]})")
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", p.stdout)


def main():
    if shutil.which("readelf") is None:
        skip("readelf is not installed (binutils, from build-essential)")
    libs = needed()
    print("note: NEEDED " + " ".join(libs), flush=True)
    for part in ("libevent_core-2.1.so.7", "libevent_extra-2.1.so.7",
                 "libevent_pthreads-2.1.so.7"):
        check(part in libs, f"portex links {part}")
    check("libevent-2.1.so.7" not in libs,
          "portex does not link the all-in-one libevent-2.1.so.7")
    finish()


if __name__ == "__main__":
    main()
