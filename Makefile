# One-command entry points. `make render` and `make test` set everything up first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BB := $(VENV)/bin/bookbuild
STAMP := $(VENV)/.installed
KERNEL := $(VENV)/share/jupyter/kernels/python3/kernel.json

# Debian packages for TikZ figures and the PDF (see DESIGN.md), and for the tests.
TEX_PKGS := texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-pictures \
            texlive-fonts-recommended texlive-luatex dvisvgm fonts-dejavu-core
TEX_CHECK := command -v lualatex && command -v latex && command -v dvisvgm && kpsewhich tikz.sty \
             && kpsewhich standalone.cls && kpsewhich uhvr8t.tfm && fc-list "DejaVu Serif" | grep -q .
TEST_PKGS := chromium poppler-utils epubcheck
TEST_CHECK := command -v chromium && command -v pdftotext && command -v epubcheck

.PHONY: setup tex test-tools test test-slow render check numbers preview bench mutants clean extension \
        screenshots

setup: $(STAMP) $(KERNEL) tex
	@# Bytecode for our packages: every command and every chapter kernel imports them, and
	@# PYTHONDONTWRITEBYTECODE (set on some machines) would make each run recompile them.
	@$(PY) -m compileall -q bookbuild mlsysim
	@# The read recorder preloaded into chapter kernels (files native code opens), built once.
	@$(PY) -m bookbuild.execution.native >/dev/null

$(PY):
	python3 -m venv $(VENV)

# Reinstall only when the package metadata changed: a second `make setup` takes seconds.
$(STAMP): pyproject.toml mlsysim/pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet -e ./mlsysim  # our book's constants: its own package
	touch $@

$(KERNEL): $(STAMP)
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (bookbuild)" >/dev/null
	@test -f $@

tex:
	@bash scripts/apt-ensure.sh "TeX Live and dvisvgm" '$(TEX_CHECK)' $(TEX_PKGS)

test-tools:
	@bash scripts/apt-ensure.sh "chromium, poppler-utils and epubcheck" '$(TEST_CHECK)' $(TEST_PKGS)

test-slow: setup test-tools
	$(PY) -m pytest -q -n 2 --dist loadgroup --durations=25 -m slow  # print renders, browser suites, fresh venv

test: setup test-tools
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2 --dist loadgroup --durations=25 -m 'not slow'  # 2 workers; a module sharing one render stays on one (tests/conftest.py)
	$(BB) numbers check
	$(BB) check --literals

render: setup
	$(BB) render

check: $(STAMP)
	$(BB) check

numbers: setup
	$(BB) numbers check

preview: setup
	$(BB) preview

# _extensions/bookbuild (for `quarto add`): links to filters/ and a manifest written from them.
extension: $(STAMP)
	$(PY) -m bookbuild.publish.extension

# docs/screenshots/*.png: our book and the showcase fixture in headless chromium (see its README).
screenshots: setup test-tools
	$(PY) docs/screenshots/shoot.py

bench: setup
	$(PY) bench/run.py

# Mutation testing of the engine's core modules (mutation/modules.toml), one worker, each module
# against its own fast tests; prints the score and every surviving mutant. Not part of `make test`
# (it takes tens of minutes). `make mutants MODULES="lock output"` runs some; ARGS=--survivors
# re-tests only the last run's survivors.
mutants: setup
	$(PY) mutation/run.py $(MODULES) $(ARGS)

clean:
	rm -rf _book .bookbuild .pytest_cache .ruff_cache .hypothesis test-artifacts
