# The two commands a newcomer runs: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTHON ?= python3

.PHONY: demo test lint bench soak system-deps clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

system-deps:
	@.ci/system-deps --browser

## make demo: the whole demo federation on localhost (embedded storage); prints the URL to open.
demo: $(STAMP) system-deps
	$(PY) -m demo

## make test: lint, then the whole suite (a real Redis is started by the test setup).
test: $(STAMP) system-deps lint
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP) system-deps
	$(PY) -m bench $(BENCH_ARGS)

## make soak: real logins with faults injected (Redis, PostgreSQL, a worker, a school); about
## 14 minutes, loopback only, stops by itself. SOAK_ARGS="--minutes 2" for a shorter run.
soak: $(STAMP) system-deps
	$(PY) -m soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo/instance
