#!/usr/bin/env bash
# Make sure TeX Live and dvisvgm are present: install them with apt-get as root, else say how.
set -euo pipefail
pkgs="texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-pictures texlive-fonts-recommended texlive-luatex dvisvgm fonts-dejavu-core"

have_tex() {
  command -v lualatex >/dev/null && command -v latex >/dev/null && command -v dvisvgm >/dev/null \
    && kpsewhich tikz.sty >/dev/null && kpsewhich standalone.cls >/dev/null \
    && kpsewhich uhvr8t.tfm >/dev/null && [ -n "$(fc-list 'DejaVu Serif')" ]
}

if have_tex; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing TeX Live and dvisvgm from Debian (about 2 minutes)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
  have_tex || { echo "TeX Live install finished but lualatex/dvisvgm/tikz are still missing" >&2; exit 1; }
else
  echo "TeX Live and dvisvgm are missing. Install them with:" >&2
  echo "  sudo apt-get install -y $pkgs" >&2
  exit 1
fi
