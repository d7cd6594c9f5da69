"""pytest entries of the cocotb testbenches of `p2m_top` (tb/test_*.py) under Icarus.

Every cocotb test module runs through :func:`tb.run.run_test` in its own build directory
(``sim_build/<module>/``), so ``pytest -n auto`` may run them in parallel. A failure names
the seed and the command that replays it. The seed is ``P2M_SEED`` when set, else a fixed
per-module default so that CI is reproducible (set ``P2M_SEED=random`` for a fresh one).
"""

from __future__ import annotations

import os
import random
import shutil
import zlib

import pytest

from tb.mutations import MUTATIONS, run_mutation
from tb.run import SimFailure, run_test

#: The chip-level cocotb modules of the regression (default geometry).
CHIP_MODULES = ("test_csr", "test_aer_readout", "test_reset_sequencer", "test_threshold_ctrl",
                "test_p2m_top", "test_clocking", "test_reprogram")

pytestmark = [pytest.mark.sim]


def _seed(module: str) -> int | None:
    raw = os.environ.get("P2M_SEED", "").strip()
    if raw == "random":
        return None
    if raw:
        return int(raw)
    return zlib.crc32(module.encode()) & 0xFFFF


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed")
@pytest.mark.parametrize("module", CHIP_MODULES)
def test_cocotb_module(module: str) -> None:
    """Run every cocotb test of ``tb/<module>.py``; fails with the seed and replay command."""
    msg = None
    try:
        res = run_test(module, seed=_seed(module), quiet=True)
    except SimFailure as exc:
        msg = str(exc)
    if msg:
        pytest.fail(msg, pytrace=False)
    assert res.failed == 0 and res.tests > 0


#: Non-default geometries of the regression: a small odd one (3x5 outputs, FLAG_SETTLE 1,
#: 4 channels, one polarity, 5x5 kernels) and the one-neuron chip, each with every
#: chip-level module but test_reprogram (the shipped checkpoint's chip only), and the DVS128
#: one (128 x 128 sensor -> 32 x 64 x 64 neurons) with the modules whose cost does not grow
#: with the readout (the readout through the HDL agents).
GEOMETRIES = {
    "small": ({"N_CH": 4, "OUT_H": 3, "OUT_W": 5, "FLAG_SETTLE": 1, "N_POL": 1, "KSIZE": 5},
              ("test_csr", "test_aer_readout", "test_reset_sequencer", "test_threshold_ctrl",
               "test_p2m_top", "test_clocking", "test_long_run")),
    # the smallest chip: one neuron, one weight cell (every corner the tests must survive)
    "one_neuron": ({"N_CH": 1, "OUT_H": 1, "OUT_W": 1, "FLAG_SETTLE": 3, "N_POL": 1,
                    "KSIZE": 1},
                   ("test_csr", "test_aer_readout", "test_reset_sequencer", "test_threshold_ctrl",
                    "test_p2m_top", "test_clocking", "test_long_run")),
    "dvs128": ({"OUT_H": 64, "OUT_W": 64},
               ("test_csr", "test_threshold_ctrl", "test_clocking", "test_long_run")),
}


def _run(module: str, seed: int | None, **kw) -> None:
    msg = None
    try:
        res = run_test(module, seed=seed, quiet=True, **kw)
    except SimFailure as exc:
        msg = str(exc)
    if msg:
        pytest.fail(msg, pytrace=False)
    assert res.failed == 0 and res.tests > 0


@pytest.mark.parametrize("module", ["test_long_run"])
def test_hdl_agents_long_run(module: str) -> None:
    """The HDL agents (one Python wake-up per window), 30,000 spikes in the regression."""
    _run(module, _seed(module), extra_env={"P2M_AER_SPIKES": "30000"})


@pytest.mark.parametrize("geometry,module",
                         [(g, m) for g, (_, mods) in GEOMETRIES.items() for m in mods])
def test_cocotb_geometry(geometry: str, module: str) -> None:
    """The geometry-dependent modules at non-default parameters (widths derived in the RTL,
    geometry read from the DUT by the testbench)."""
    params, _ = GEOMETRIES[geometry]
    spikes = "40000" if geometry == "dvs128" else "5000"
    _run(module, _seed(module), parameters=params, extra_env={"P2M_AER_SPIKES": spikes})


def random_geometries(seed: int, n: int = 6) -> list[dict[str, int]]:
    """``n`` seeded random small chips: 1-8 channels of 1-9 x 1-9 neurons, FLAG_SETTLE 1-3,
    1-2 polarities, 1, 3 or 5 kernels (the corners the fixed geometries miss: one channel,
    one row, one neuron)."""
    rng = random.Random(seed)
    return [{"N_CH": rng.randint(1, 8), "OUT_H": rng.randint(1, 9), "OUT_W": rng.randint(1, 9),
             "FLAG_SETTLE": rng.randint(1, 3), "N_POL": rng.randint(1, 2),
             "KSIZE": rng.choice([1, 3, 5])} for _ in range(n)]


#: ``pytest -m slow -k random_geometry``: the small geometry's modules at random chips
#: (P2M_GEOMETRY_SEED, default 7; the geometry is in the test id and the replay command).
RANDOM_GEOMETRIES = random_geometries(int(os.environ.get("P2M_GEOMETRY_SEED", "7")))


@pytest.mark.slow
@pytest.mark.parametrize("params", RANDOM_GEOMETRIES,
                         ids=lambda p: "ch{N_CH}-{OUT_H}x{OUT_W}-fs{FLAG_SETTLE}-pol{N_POL}-k{KSIZE}"
                         .format(**p))
@pytest.mark.parametrize("module", GEOMETRIES["small"][1])
def test_cocotb_random_geometry(params: dict[str, int], module: str) -> None:
    """Every chip-level module but test_reprogram at a seeded random small chip."""
    _run(module, _seed(module), parameters=params, extra_env={"P2M_AER_SPIKES": "3000"})


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed")
@pytest.mark.parametrize("seed", [101, 202])
def test_aer_readout_long(seed: int) -> None:
    """1,000,000 random spikes through the AER readout (about 3.5 minutes per seed)."""
    from tb.run import REPO

    msg = None
    try:
        run_test("test_aer_readout", seed=seed, testcase="AerRandomBulk", quiet=True,
                 build_dir=REPO / "sim_build" / f"test_aer_readout_long_{seed}",
                 extra_env={"P2M_AER_SPIKES": "1000000"})
    except SimFailure as exc:
        msg = str(exc)
    if msg:
        pytest.fail(msg, pytrace=False)


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed")
@pytest.mark.parametrize("name", [m.name for m in MUTATIONS])
def test_mutation_is_caught(name: str, tmp_path) -> None:
    """The testbench catches each known single-line RTL bug (tb/mutations.py); a mutation
    whose pattern no longer matches the RTL is skipped (update the table)."""
    m = next(m for m in MUTATIONS if m.name == name)
    res = run_mutation(m, 7, tmp_path)
    if res.startswith("n/a"):
        pytest.skip(f"{name}: {res}")
    assert res.startswith("caught"), f"mutation {name} ({m.what}) was not caught by {m.test}"
