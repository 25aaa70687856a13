# Deskguard — `make run` and `make test` do every set-up step on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: install run test db lint typecheck lock bench eval token detectors-test clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The lock file pins every package by hash, the spaCy model included; nothing is fetched at run time.
$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes --no-deps -r requirements.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

db: install
	$(BIN)/deskguard db upgrade

run: db
	@$(BIN)/deskguard token --tenant dev --role admin --subject developer --ensure-tenant
	$(BIN)/deskguard serve --with-worker

test: install
	$(BIN)/deskguard detectors test
	$(BIN)/ruff check .
	$(BIN)/mypy app detectors playbooks integrations
	$(BIN)/pytest

token: install
	@$(BIN)/deskguard token --tenant dev --role admin --subject developer

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy app detectors

# The full evaluation: the scenario library (with the fairness audit and the evasion suite) and the
# real customer requests in ../shared/data, converted by eval/datasets/convert.py. Reports go to docs/eval/.
eval: install
	mkdir -p var/eval
	$(BIN)/python eval/datasets/convert.py --out var/eval
	$(BIN)/deskguard scenarios export > var/eval/scenarios.jsonl
	$(BIN)/deskguard eval var/eval/scenarios.jsonl --fairness --evasion --report docs/eval/scenarios
	$(BIN)/deskguard eval var/eval/benign.jsonl --report docs/eval/benign

bench: install
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/webhooks.py

# Re-resolve dependencies (needs uv on PATH): updates uv.lock and the hashed requirements.lock.
lock:
	uv lock
	uv export --quiet --format requirements-txt --no-emit-project --group dev --group bench -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
