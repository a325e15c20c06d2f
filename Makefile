# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Two cores: torch gets both unless a target says otherwise.
export OMP_NUM_THREADS ?= 2

.PHONY: demo test test-fast check chaos bench train train-classifier task install clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --upgrade pip setuptools wheel
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/spikecodec demo

# what CI runs (.ci/run): the static checks, then the full suite (the hostile-client suite
# tests/test_chaos.py included)
test: check
	$(PY) -m pytest -q -ra

# the suite without the static checks and the slow end-to-end tests, for local work
test-fast: $(STAMP)
	$(PY) -m pytest -q -ra -m "not slow"

# static checks: lint (ruff, settings in pyproject.toml) and types (mypy)
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# the hostile-client suite alone (a few minutes; prints cases tried / clean / lost)
chaos: $(STAMP)
	$(PY) -m pytest -q -ra tests/test_chaos.py

bench: $(STAMP)
	$(PY) -m bench

# the shipped spikecodec-base continues the stage-I run after attention and inter were trained over it
# (codec/models/weights/spikecodec-base.json, "note"); the conditional inter codec then continues the
# inter weights against it (spikecodec-base-inter.json, "note")
train: $(STAMP)
	$(VENV)/bin/spikecodec train --stage all
	$(VENV)/bin/spikecodec train --stage codec --init spikecodec-base --steps 9000 --lr 1.5e-4 --anneal 1500:1.5e-5
	$(VENV)/bin/spikecodec train --stage inter --init spikecodec-base --steps 6500 --lr 1e-4 --anneal 800:2e-5

# the task benchmark's digits classifier alone (seconds on CPU; deterministic)
train-classifier: $(STAMP)
	$(VENV)/bin/spikecodec train --stage classifier

# task fidelity on the bundled digits (a few minutes on 2 cores), then its results page
task: $(STAMP)
	$(VENV)/bin/spikecodec task digits -o out/task-digits
	$(PY) -m codec.task.report out/task-digits -o docs/task_results.md

clean-venv:
	rm -rf $(VENV)
