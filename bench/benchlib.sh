# SPDX-License-Identifier: MIT
# Sourced by the bench scripts: installs the peer tools a bench needs from Debian
# (bench tools, not test dependencies, so not in scripts/setup.sh).
bench_install() {
  local need=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
  fi
}
