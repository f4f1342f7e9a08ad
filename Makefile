# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint check-defs models bench-features bench-inference clean-data

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/scope-demo

test: install
	$(BIN)/ruff check .
	$(BIN)/dagster definitions validate -f definitions.py
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench-features: install
	$(BIN)/python bench/bench_features.py
	$(BIN)/python bench/bench_field_features.py

bench-inference: install
	$(BIN)/python bench/bench_inference.py

clean-data:
	rm -rf data

models: install
	$(BIN)/scope-train --all-demo
