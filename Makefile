# The two commands a newcomer runs: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
STAMP := $(VENV)/.installed-test-$(SUM)
DEMO_STAMP := $(VENV)/.installed-demo-$(SUM)
PYTHON ?= python3

.PHONY: demo test lint bench soak clean

# The demo installs Loper and the demo's peers only (extra "demo"); tests, lint and bench
# everything (extra "test").
define install
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[$(1)]'
	@rm -f $(VENV)/.installed-$(1)-*
	@touch $@
endef

$(DEMO_STAMP): pyproject.toml
	$(call install,demo)

$(STAMP): pyproject.toml
	$(call install,test)

## make demo: the whole demo federation on localhost (embedded storage); prints the URL to open.
demo: $(DEMO_STAMP)
	@.ci/system-deps demo
	$(PY) -m demo

## make test: lint, then the whole suite (a real Redis is started by the test setup).
test: $(STAMP) lint
	@.ci/system-deps test
	$(VENV)/bin/pytest

## make lint: ruff, strict mypy, and no Any expressions beyond [tool.loper.any-exprs].
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) .ci/any-exprs .mypy-report/any-exprs.txt

bench: $(STAMP)
	@.ci/system-deps bench
	$(PY) -m bench $(BENCH_ARGS)

## make soak: real logins with faults injected (Redis, PostgreSQL, a worker, a school); about
## 14 minutes, loopback only, stops by itself. SOAK_ARGS="--minutes 2" for a shorter run.
soak: $(STAMP)
	@.ci/system-deps test
	$(PY) -m soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo/instance
