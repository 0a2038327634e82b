# SPDX-License-Identifier: MIT
"""The .deb as users install it: cpack builds it, its Depends name the package of every
library the binary links, apt-get installs it on this (CI, throwaway) machine, portex runs
from /usr/bin, man finds its page, bash completion is in place; then it is removed again."""
import fcntl
import glob
import os
import re
import subprocess
import tempfile

from pxtest import PORTEX, can_run, check, finish, skip, skip_part

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
# Two suites on one machine (a build and a sanitizer build) must not install at once.
LOCK = "/run/lock/portex-test-deb.lock"


def sh(*cmd, timeout=300, **kw):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, **kw)


def build_deb(out_dir):
    """cpack over the build tree of the binary under test; a scratch build if there is none."""
    build = os.path.dirname(PORTEX)
    config = os.path.join(build, "CPackConfig.cmake")
    if not os.path.exists(config):
        build = os.path.join(out_dir, "build")
        p = sh("cmake", "-S", ROOT, "-B", build, "-DBUILD_TESTING=OFF")
        check(p.returncode == 0, f"cmake configures a scratch build ({p.stderr[-300:]!r})")
        p = sh("cmake", "--build", build, "-j2", "--target", "portex", timeout=600)
        check(p.returncode == 0, f"the scratch build builds portex ({p.stderr[-300:]!r})")
        config = os.path.join(build, "CPackConfig.cmake")
    p = sh("cpack", "-G", "DEB", "--config", config, "-B", out_dir, cwd=build)
    debs = glob.glob(os.path.join(out_dir, "portex_*.deb"))
    check(p.returncode == 0 and len(debs) == 1,
          f"cpack -G DEB makes one portex_*.deb (rc {p.returncode}, {p.stderr[-300:]!r})")
    return debs[0] if debs else None


def linked_packages():
    """The Debian package of every shared library portex links directly (its ELF NEEDED
    entries, resolved by `ldd`, owner by dpkg -S). Libraries those pull in (libnftables1's
    libnftnl11, for one) come through their own packages' Depends, as dpkg-shlibdeps does."""
    needed = set(re.findall(r"NEEDED\s+(\S+)", sh("objdump", "-p", PORTEX).stdout))
    check(len(needed) > 0, f"objdump -p lists the libraries portex needs ({sorted(needed)})")
    p = sh("ldd", PORTEX)
    pkgs = set()
    for name, path in re.findall(r"^\s*(\S+) => (/\S+)", p.stdout, re.M):
        if name not in needed:
            continue
        candidates = [path, "/usr" + path, re.sub(r"^/usr", "", path), os.path.realpath(path)]
        owner = None
        for c in candidates:
            q = sh("dpkg", "-S", c)
            if q.returncode == 0:
                owner = q.stdout.split(":")[0]
                break
        check(owner is not None, f"dpkg -S finds the package of {path}")
        if owner:
            pkgs.add(owner)
    return pkgs


def check_control(deb):
    depends = sh("dpkg-deb", "-f", deb, "Depends").stdout.strip()
    names = {re.sub(r"\s*\(.*", "", d).strip() for d in depends.split(",") if d.strip()}
    print(f"note: Depends: {depends}", flush=True)
    for pkg in ("libevent-core-2.1-7", "libevent-extra-2.1-7", "libevent-pthreads-2.1-7",
                "libhttp-parser2.9", "libc6"):
        check(pkg in names, f"Depends names {pkg}")
    # evhttp (--metrics) from libevent_extra, never the all-in-one libevent (test_linkage).
    check("libevent-2.1-7" not in names, "Depends does not name the all-in-one libevent-2.1-7")
    linked = linked_packages()
    check(linked <= names, f"Depends names the package of every linked library "
          f"({' '.join(sorted(linked))}; missing {' '.join(sorted(linked - names)) or 'none'})")
    info = sh("dpkg-deb", "-I", deb).stdout
    check("Depends: " + depends in info, "dpkg-deb -I lists the Depends")
    files = sh("dpkg-deb", "-c", deb).stdout
    for path in ("./usr/bin/portex", "./usr/share/man/man1/portex.1",
                 "./usr/share/bash-completion/completions/portex"):
        check(re.search(re.escape(path) + r"(\.gz)?$", files, re.M) is not None,
              f"the package holds {path}")


def check_installed():
    want = sh(PORTEX, "--version").stdout.strip()
    p = sh("/usr/bin/portex", "--version")
    check(p.returncode == 0 and p.stdout.strip() == want and want.startswith("portex "),
          f"/usr/bin/portex --version says {p.stdout.strip()!r} (built: {want!r})")
    p = sh("man", "-w", "portex")
    check(p.returncode == 0 and p.stdout.strip().startswith("/usr/share/man/man1/portex.1"),
          f"man -w portex finds {p.stdout.strip()!r} (rc {p.returncode}, {p.stderr.strip()!r})")
    p = sh("bash", "--norc", "--noprofile", "-c",
           "source /usr/share/bash-completion/completions/portex && complete -p portex")
    check(p.returncode == 0 and "_portex" in p.stdout,
          f"the installed bash completion registers _portex ({p.stderr.strip()!r})")


def installed():
    p = sh("dpkg-query", "-W", "-f=${Status}", "portex")
    return p.returncode == 0 and "install ok installed" in p.stdout


def install_and_check(deb):
    if installed():
        skip_part("installing the .deb", "a portex package is already installed here; "
                  "the test does not replace it")
        return
    try:
        p = sh("apt-get", "install", "-y", "-q", "--no-install-recommends", deb, env=APT_ENV)
        check(p.returncode == 0 and installed(),
              f"apt-get install -y {os.path.basename(deb)} installs it ({p.stderr[-300:]!r})")
        if installed():
            check_installed()
    finally:
        p = sh("apt-get", "remove", "-y", "-q", "portex", env=APT_ENV)
        check(p.returncode == 0 and not installed() and not os.path.exists("/usr/bin/portex"),
              f"apt-get remove -y portex removes it again ({p.stderr[-300:]!r})")


def main():
    if not can_run("building and installing the .deb", root=True,
                   tools=("cpack", "dpkg-deb", "dpkg-shlibdeps", "apt-get", "man", "ldd", "objdump")):
        finish()
    if not os.path.exists("/etc/debian_version"):
        skip("not a Debian system")
    with open(LOCK, "w") as lock, tempfile.TemporaryDirectory(prefix="pxdeb") as out:
        fcntl.flock(lock, fcntl.LOCK_EX)
        deb = build_deb(out)
        if deb:
            check_control(deb)
            install_and_check(deb)
    finish()


if __name__ == "__main__":
    main()
