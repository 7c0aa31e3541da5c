# The two commands a fresh machine needs: `make chat` and `make test`. Each installs what it needs first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install install-test chat test lint typecheck check-content eval bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Everything the default configuration needs.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# Tests also exercise the sentence-transformers backend. torch 2.13.0 first: it is the CPU build here,
# and any other torch request pulls several GB of CUDA packages.
$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[st,dev]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

chat: install
	$(BIN)/hocvu chat

test: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/hocvu kb check
	$(BIN)/pytest -q

check-content: install
	$(BIN)/hocvu kb check

eval: install
	$(BIN)/hocvu eval

bench: install-test
	$(BIN)/python -m bench.answer_latency
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.quiz_answer

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
