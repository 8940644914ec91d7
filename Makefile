# One place for every command; `make test` is exactly what CI runs (.ci/run).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FILES ?=
OUT ?= out

.PHONY: setup run test lint typecheck unit compat bench producers tenants soak golden clean

NODE_STAMP := node_modules/.installed

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml $(NODE_STAMP)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Azurite, the local Azure Storage emulator, pinned in package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

setup: $(STAMP)

# The whole pipeline locally (Azurite, API, workers) with the PDFs given as FILES="a.pdf b.pdf" —
# or, without FILES, a generated sample month — submitted once it is up; Ctrl-C stops it.
run: $(STAMP)
	@mkdir -p $(OUT); if [ -z "$(FILES)" ]; then \
		echo "No FILES given: generating a sample month into $(OUT)/sample/"; \
		$(BIN)/python -m tests.builders month $(OUT)/sample --size month --seed 7 >/dev/null 2>&1; \
		set -- $(OUT)/sample/statement.pdf $(OUT)/sample/receipts.pdf; \
	else set -- $(FILES); fi; \
	$(BIN)/ccproc dev --submit "$$@" --out $(OUT)/reports $(DEV_FLAGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# checkov (the manifests' security scan) pins packaging<24, which pytest 9 refuses: its own venv.
CHECKOV := $(VENV)/tools/checkov/bin/checkov
$(CHECKOV): $(STAMP)
	$(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/python -m pip install --quiet checkov==3.3.30

# The web page's tests drive Debian's Chromium (Playwright's own browser download does not work here).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium

unit: $(STAMP) $(CHECKOV) $(CHROMIUM)
	$(BIN)/pytest -q

# The same suite's process-starting tests on Python 3.12 as well (the Functions anchors deploy it):
# forks, the sandbox, the receipt cutters, workers and the Functions chain, warnings as errors (a
# fork beside a running thread warns there). Skipped, saying so, where no Python 3.12 is installed.
PYTHON312 ?= $(shell command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys' 2>/dev/null && command -v python3.12 || (PYENV_VERSION=$$(pyenv versions --bare 2>/dev/null | grep '^3\.12' | tail -1) pyenv which python3.12 2>/dev/null))
VENV312 := .venv312
COMPAT_TESTS := tests/test_extract.py tests/test_receipt_pdfs.py tests/test_cli_reconcile.py \
	tests/test_hostile_pdfs.py tests/test_receipt_store.py tests/test_workers.py tests/test_golden.py \
	tests/test_pdf_text.py tests/test_partial_sessions.py tests/test_reconcile_month.py \
	tests/test_functions_pipeline.py tests/test_give_up.py tests/test_producers.py
compat: $(STAMP)
	@if [ -z "$(PYTHON312)" ]; then echo "compat: no Python 3.12 found: skipped"; exit 0; fi; \
	test -x $(VENV312)/bin/python || $(PYTHON312) -m venv $(VENV312); \
	test $(VENV312)/.installed -nt requirements.txt -a $(VENV312)/.installed -nt requirements-dev.txt || { $(VENV312)/bin/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt && \
		$(VENV312)/bin/python -m pip install --quiet --no-deps -e . && touch $(VENV312)/.installed; }; \
	$(VENV312)/bin/python -m pytest -q -p no:cacheprovider $(COMPAT_TESTS)

test: lint typecheck unit compat

# Long measurements; not part of the test suite.
bench: $(STAMP)
	$(BIN)/python -m bench.extraction
	$(BIN)/python -m bench.producers --size month
	$(BIN)/python -m bench.reconcile
	$(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.tracing
	$(BIN)/python -m bench.workers
	$(BIN)/python -m bench.tenants
	$(BIN)/python -m bench.page

# One tenant's session list, quota and stored-bytes checks before and after another tenant's 1,000
# sessions, against reading every manifest (the list without a per-tenant index). ~2 min.
tenants: $(STAMP)
	$(BIN)/python -m bench.tenants
	$(BIN)/python -m bench.page

# Both reports drawn the way other producers draw them (cells, line, words, padded), month-sized:
# every field's accuracy per style, match and status; exit 1 below target. ~1 min once built.
producers: $(STAMP)
	$(BIN)/python -m bench.producers --size month

# Reliability under faults and load (workers killed, Azurite restarted, storage errors, duplicate
# events, 50 sessions at once against `ccproc dev`); one table, exit 1 if anything is lost. ~4 min.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

golden: $(STAMP)
	$(BIN)/python -m tests.builders golden

clean:
	rm -rf $(VENV) $(VENV312) $(OUT) .pytest_cache .mypy_cache .ruff_cache .hypothesis
