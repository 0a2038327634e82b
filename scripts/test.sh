#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds, and runs every test through ctest.
#   scripts/test.sh [BUILD_DIR] [extra cmake args...]
# With PORTEX_NO_SKIP=1 (CI, as root) a skipped test or a skipped part of one fails.
# PORTEX_NOT_AGAIN=REGEX: tests that an earlier suite of the same run ran already
# (.ci/run's sanitizer suites), left out of this one and named on screen.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
scripts/setup.sh "$build" "$@"
cd "$build"
rc=0
not_again=()
if [ -n "${PORTEX_NOT_AGAIN:-}" ]; then
  not_again=(-E "$PORTEX_NOT_AGAIN")
  echo "test.sh: not run again in $build (run by the suite before it):" \
    $(ctest -N -R "$PORTEX_NOT_AGAIN" | sed -n 's/^ *Test *#[0-9]*: //p')
fi
ctest --output-on-failure -j 2 --timeout 300 "${not_again[@]}" | tee ctest.out || rc=$?

# ctest hides the output of passing tests: list every skip so none is silent. A whole
# test skips with exit 77 (ctest "Skipped"); a part of one prints "SKIP: what (why)"
# (pxtest.skip_part, PX_SKIP in tests/common/pxskip.h); cmocka prints "[  SKIPPED ]".
skips=$(awk '/^[0-9]+\/[0-9]+ Test: / { t = $3 }
             /^SKIP: |^\[  SKIPPED \]/ { print "  " t ": " $0 }' \
        Testing/Temporary/LastTest.log 2>/dev/null || true)
whole=$(grep -E '\*\*\*Skipped|\(Skipped\)|\*\*\*Not Run' ctest.out || true)
if [ -n "$skips$whole" ]; then
  echo "test.sh: skipped tests or parts of tests:"
  [ -z "$whole" ] || printf '%s\n' "$whole"
  [ -z "$skips" ] || printf '%s\n' "$skips"
  if [ "${PORTEX_NO_SKIP:-0}" = 1 ]; then
    echo "test.sh: PORTEX_NO_SKIP=1: every test must run whole; failing" >&2
    rc=1
  fi
fi
exit "$rc"
