# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EROS1_DIR := $(or $(SCOPE_SHARED_DIR),../shared)/data/real
# Superseded `dagster` CLI commands print a SupersessionWarning before any project code loads.
QUIET_DAGSTER := PYTHONWARNINGS=ignore::dagster_shared.utils.warnings.SupersessionWarning

.PHONY: install demo test lint check-defs models fields bench-features bench-inference eval-real clean-data

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
	$(QUIET_DAGSTER) $(BIN)/dagster definitions validate -f definitions.py
	$(BIN)/pytest -q

# The field pipeline over a list of fields, one run each, without webserver or daemon (the runs
# show in `dagster dev` afterwards): make fields FIELDS="297 298"; add fields with scope-sim.
fields: install
	for f in $(FIELDS); do \
		$(BIN)/dg launch --job field_pipeline --partition $$f -f definitions.py || exit 1; \
	done

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench-features: install
	$(BIN)/python bench/bench_features.py
	$(BIN)/python bench/bench_field_features.py

bench-inference: install
	$(BIN)/python bench/bench_inference.py

# Period recovery on the real development set (../shared/data/real), next to LS alone, and the classifiers on the held-out EROS-1 half (~2-4 min)
eval-real: install
	$(BIN)/python bench/eval_real.py --plots data/reports/eval_real

clean-data:
	rm -rf data

# The demo models learn from the real EROS-1 training half when the shared data is present
models: install
	$(BIN)/scope-train --all-demo $(if $(wildcard $(EROS1_DIR)/eros1_ramp/train.csv),--eros1-dir $(EROS1_DIR))
