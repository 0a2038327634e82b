#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets under ASan + UBSan and runs each for a bounded time on a
# scratch copy of its seed corpus; fails on any crash, leak, hang or sanitizer report.
#   FUZZ_SECONDS=60 scripts/fuzz.sh [TARGET...]     (default: every tests/fuzz/fuzz_*.c)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD:-build-fuzz}
secs=${FUZZ_SECONDS:-60}

# libFuzzer needs clang; its own coverage flags are added by tests/fuzz/CMakeLists.txt.
scripts/setup.sh "$build" -DCMAKE_C_COMPILER=clang -DPORTEX_FUZZ=ON \
  -DPORTEX_SANITIZE='address;undefined' -DBUILD_TESTING=OFF

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
fi

scratch=$(mktemp -d /tmp/portex-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
artifacts="$PWD/$build/fuzz-artifacts"
mkdir -p "$artifacts"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

failed=()
for t in "${targets[@]}"; do
  bin="$PWD/$build/fuzz/$t"
  work="$scratch/$t"
  mkdir -p "$work/corpus"
  # The seeds are copied: new inputs go to the scratch copy, never into the repository.
  # Absolute paths: fuzz_cli works in a directory of its own.
  cp tests/fuzz/corpus/"$t"/* "$work/corpus/"
  log="$work/log"
  dict=()
  [ -f tests/fuzz/"$t".dict ] && dict=(-dict="$PWD/tests/fuzz/$t.dict")
  rc=0
  (cd "$work" && TMPDIR="$work" "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -detect_leaks=1 -print_final_stats=1 "${dict[@]}" -artifact_prefix="$artifacts/$t-" \
    "$work/corpus") >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tail -1)
  if [ "$rc" -ne 0 ] || [ -z "$runs" ] ||
    grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant failed' "$log"; then
    echo "fuzz: $t FAILED (exit $rc); the log's end, the input is in $artifacts:"
    grep -vE '^#[0-9]+' "$log" | tail -60
    failed+=("$t")
  else
    echo "fuzz: $t ok: $runs"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${secs} s each, no crash, leak or sanitizer report"
