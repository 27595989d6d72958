# One-command entry points. `make render` and `make test` set everything up first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BB := $(VENV)/bin/bookbuild
STAMP := $(VENV)/.installed
KERNEL := $(VENV)/share/jupyter/kernels/python3/kernel.json

# Debian packages for TikZ figures and the PDF (see DESIGN.md).
TEX_PKGS := texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-pictures \
            texlive-fonts-recommended texlive-luatex dvisvgm

.PHONY: setup tex test-tools test render check numbers preview bench clean

setup: $(STAMP) $(KERNEL) tex

$(PY):
	python3 -m venv $(VENV)

# Reinstall only when the package metadata changed: a second `make setup` takes seconds.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(KERNEL): $(STAMP)
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (bookbuild)" >/dev/null
	@test -f $@

tex:
	@bash scripts/ensure-tex.sh

test-tools:
	@bash scripts/ensure-test-tools.sh

test: setup test-tools
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q
	$(BB) numbers check

render: setup
	$(BB) render

check: $(STAMP)
	$(BB) check

numbers: setup
	$(BB) numbers check

preview: setup
	$(BB) preview

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf _book .bookbuild .pytest_cache .ruff_cache .hypothesis test-artifacts
