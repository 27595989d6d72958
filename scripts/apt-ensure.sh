#!/usr/bin/env bash
# Usage: apt-ensure.sh WHAT 'CHECK COMMAND' PACKAGE...
# Runs CHECK; if it fails, installs the Debian PACKAGEs with apt-get as root, else prints the
# exact command to run and fails.
set -euo pipefail
what=$1 check=$2
shift 2
[ $# -gt 0 ] || { echo "usage: apt-ensure.sh WHAT CHECK PACKAGE..." >&2; exit 2; }
if bash -c "$check" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing $what from Debian: $*"
  # Wait for another apt/dpkg run (a second `make setup`, unattended upgrades) instead of failing.
  lock=(-o DPkg::Lock::Timeout=900)
  apt-get "${lock[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -qq "$@" >/dev/null
  bash -c "$check" >/dev/null 2>&1 || { echo "$what still missing after apt-get install $*" >&2; exit 1; }
else
  echo "$what is missing. Install it with:" >&2
  echo "  sudo apt-get install -y $*" >&2
  exit 1
fi
