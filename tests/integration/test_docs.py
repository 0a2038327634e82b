# SPDX-License-Identifier: MIT
"""The docs cannot fall behind the binary: every long option of every command's --help is in
portex.1, and the bash completion sources cleanly and completes commands, options and values."""
import os
import re
import shutil
import subprocess
import tempfile

from pxtest import PORTEX, check, finish, spawn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN = os.path.join(ROOT, "portex.1")
README = os.path.join(ROOT, "README.md")
COMPLETION = os.path.join(ROOT, "completions", "portex.bash")
LONG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def help_text(*args):
    p = subprocess.run([PORTEX, *args, "--help"], capture_output=True, text=True, timeout=10)
    check(p.returncode == 0, f"portex {' '.join(args + ('--help',))} exits 0 (got {p.returncode})")
    return p.stdout


def commands():
    """The commands `portex --help` lists ("  run URL   one load run")."""
    return re.findall(r"^  ([a-z]+)\b", help_text(), re.M)


def man_source():
    """portex.1 with roff's escaped hyphens and font changes removed: what a reader sees."""
    with open(MAN, encoding="utf-8") as f:
        text = f.read()
    return re.sub(r"\\f[BIRP]", "", text.replace("\\-", "-").replace("\\e", "\\"))


def check_man(cmds):
    man = man_source()
    documented = set(LONG.findall(man))
    for cmd in cmds:
        check(re.search(rf"^\.SS portex {cmd}\b", man, re.M) is not None,
              f"portex.1 has a section for portex {cmd}")
        missing = sorted(set(LONG.findall(help_text(cmd))) - documented)
        check(not missing, f"portex.1 documents every long option of portex {cmd} --help"
              + (f" (missing: {' '.join(missing)})" if missing else ""))
    for section in ("EXIT STATUS", "FILES", "EXAMPLES"):
        check(f".SH {section}" in man, f"portex.1 has {section}")
    for code in ("0", "1", "2", "130"):
        check(re.search(rf"^\.TP\n\.B {code}\n", man, re.M) is not None,
              f"EXIT STATUS explains {code}")
    for fact in ("60 s", "tcp_fin_timeout", "loopback only", "timestamps"):
        check(fact in man, f"portex.1 states the kernel caveat about {fact!r}")
    if shutil.which("man"):
        p = subprocess.run(["man", "--warnings", "-l", MAN], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"),
                           timeout=30)
        check(p.returncode == 0 and p.stderr.strip() == "",
              f"man --warnings -l portex.1 renders without warnings ({p.stderr.strip()[:200]!r})")


def complete(*words):
    """COMPREPLY of _portex for the command line `words` (the last one is the word under the
    cursor), from a fresh bash that sourced the completion, portex found on PATH."""
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    script = (f"source '{COMPLETION}' || exit 3\n"
              f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
              "_portex; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    env = dict(os.environ, PATH=os.path.dirname(PORTEX) + os.pathsep + os.environ["PATH"])
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       text=True, env=env, timeout=30)
    check(p.returncode == 0 and p.stderr == "",
          f"completion of {' '.join(words)!r} runs cleanly (rc {p.returncode}, {p.stderr!r})")
    return [w for w in p.stdout.split("\n") if w]


def check_completion(cmds):
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                        f"set -eu; source '{COMPLETION}'; complete -p portex"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and p.stderr == "" and "-F _portex portex" in p.stdout,
          f"the completion sources cleanly under set -eu and registers _portex ({p.stderr!r})")
    check(sorted(complete("portex", "r")) == ["ramp", "run"], "portex r<TAB> gives run and ramp")
    check(complete("portex", "run", "--clo") == ["--close"], "portex run --clo<TAB> gives --close")
    check(sorted(complete("portex", "run", "--close", "")) == ["client", "rst", "server"],
          "--close <TAB> gives client, server, rst")
    check(sorted(complete("portex", "run", "--tls-version", "")) == ["1.2", "1.3"],
          "--tls-version <TAB> gives 1.2, 1.3")
    check(sorted(complete("portex", "run", "--tls-resume", "")) == ["off", "ticket"],
          "--tls-resume <TAB> gives off, ticket")
    lab = complete("portex", "lab", "--modes", "")
    check({"noreuse", "reuse", "reuse-server-nots", "keepalive", "all"} <= set(lab)
          and "or" not in lab and "default" not in lab,
          f"lab --modes <TAB> gives the mode names ({' '.join(lab)})")
    check(complete("portex", "lab", "--modes", "noreuse,reuse-s") == ["noreuse,reuse-server-nots"],
          "lab --modes noreuse,reuse-s<TAB> completes the name after the comma")
    cmp_modes = complete("portex", "compare", "--modes", "")
    check({"keepalive", "server-close", "rst", "short"} <= set(cmp_modes),
          f"compare --modes <TAB> gives its mode names ({' '.join(cmp_modes)})")
    check(complete("portex", "run", "-c", "") == [], "no completion for the value of -c")
    check({"-4", "-6"} <= set(complete("portex", "run", "-")), "portex run -<TAB> offers -4 and -6")
    for cmd in ("compare", "ramp", "doctor"):
        check(sorted(complete("portex", cmd, "--ipv")) == ["--ipv4", "--ipv6"],
              f"portex {cmd} --ipv<TAB> gives --ipv4 and --ipv6")
    for cmd in cmds:
        offered = set(complete("portex", cmd, "--"))
        missing = sorted(set(LONG.findall(help_text(cmd))) - offered)
        check(not missing, f"portex {cmd} --<TAB> offers every long option of its --help"
              + (f" (missing: {' '.join(missing)})" if missing else ""))
    check("--connections" in complete("portex", "compare", "--conn"),
          "compare --conn<TAB> offers --connections (a load option its help names as -c)")
    with tempfile.TemporaryDirectory(prefix="pxdocs") as d:
        open(os.path.join(d, "body.txt"), "w").close()
        check(complete("portex", "run", "--json", os.path.join(d, "bo"))
              == [os.path.join(d, "body.txt")], "--json <TAB> completes a file name")
        check(complete("portex", "run", "--body", "@" + os.path.join(d, "bo"))
              == ["@" + os.path.join(d, "body.txt")], "--body @<TAB> completes a file name")


def check_readme_top():
    """A newcomer reads the top: the two commands first, then where the binary is and how to
    install it; `cmake --install` as written there puts the binary, man page and completion."""
    with open(README, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = re.findall(r"```sh\n(.*?)```", "\n".join(lines), re.S)
    check(blocks and [l.split()[0] for l in blocks[0].strip().split("\n")]
          == ["scripts/demo.sh", "scripts/test.sh"],
          "README's first lines are the two commands (scripts/demo.sh, scripts/test.sh)")
    top = "\n".join(lines[:40])
    for words in ("build/portex", "cmake --install build", "cpack -G DEB", "apt-get install ./build/"):
        check(words in top, f"README says near the top (first 40 lines): {words!r}")
    build = os.path.dirname(PORTEX)
    if not os.path.exists(os.path.join(build, "cmake_install.cmake")):
        check(False, f"{build} is a CMake build directory (cmake --install needs it)")
        return
    with tempfile.TemporaryDirectory(prefix="pxinstall") as d:
        p = spawn(["cmake", "--install", build, "--prefix", d], stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, text=True)
        _, err = p.communicate(timeout=60)
        got = sorted(os.path.relpath(os.path.join(r, f), d)
                     for r, _, fs in os.walk(d) for f in fs)
        check(p.returncode == 0 and got == ["bin/portex", "share/bash-completion/completions/portex",
                                            "share/man/man1/portex.1.gz"],
              f"cmake --install puts the binary, man page and completion ({got}, {err.strip()!r})")


def main():
    cmds = commands()
    check({"run", "serve", "compare", "lab", "doctor"} <= set(cmds),
          f"portex --help lists the commands ({' '.join(cmds)})")
    check_man(cmds)
    check_completion(cmds)
    check_readme_top()
    finish()


if __name__ == "__main__":
    main()
