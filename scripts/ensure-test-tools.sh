#!/usr/bin/env bash
# Tools the tests drive for real: Debian's chromium (browser tests) and poppler-utils (PDF text).
set -euo pipefail
pkgs="chromium poppler-utils"
have() { command -v chromium >/dev/null && command -v pdftotext >/dev/null; }
if have; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing $pkgs from Debian..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
  have || { echo "chromium or pdftotext still missing after apt-get install" >&2; exit 1; }
else
  echo "The tests need chromium and pdftotext. Install them with:" >&2
  echo "  sudo apt-get install -y $pkgs" >&2
  exit 1
fi
