# bosh-azure-cpi: every target sets up what it needs (virtualenv, pinned packages, project-local Node tools).
# README commands: `make demo` and `make test`.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_DIR := tools/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
PIP := $(PY) -m pip --disable-pip-version-check --quiet
SIZE ?= 3G

.PHONY: all venv node check fmt lint typecheck imports test unit demo bench bench-smoke stemcell-fixture clean

all: test

venv: $(VENV)/.installed

$(VENV)/.installed: requirements/runtime.txt requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements/dev.txt
	echo "$(CURDIR)/src" > "$$($(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/bosh_azure_cpi_src.pth"
	touch $@

node: $(NODE_STAMP)

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	touch $@

fmt: venv
	$(PY) -m ruff format src tests bench tools
	$(PY) -m ruff check --fix src tests bench tools

lint: venv
	$(PY) -m ruff format --check src tests bench tools
	$(PY) -m ruff check src tests bench tools

typecheck: venv
	$(PY) -m mypy

imports: venv
	$(VENV)/bin/lint-imports

check: lint typecheck imports

unit: venv
	$(PY) -m pytest -q tests/unit tests/contract

test: venv node check
	$(PY) -m pytest -q
	$(PY) -m tools.validate_traffic

demo: venv node
	$(PY) -m tools.demo

stemcell-fixture: venv
	$(PY) -m bench.fixtures --size $(SIZE)

bench: venv node
	$(PY) -m bench.run

bench-smoke: venv node
	$(PY) -m bench.run --smoke

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules .pytest_cache .mypy_cache .ruff_cache .traffic .demo
